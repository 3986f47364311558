/**
 * What of a node record is the machine's own (what it booted, reported and was given as a running machine), as
 * opposed to what the operator's manifest row set up. A claim moves these from the machine's record onto the manifest
 * record (claim.ts); a held claim taken over by a MAC the row lists moves them back to a record of their own
 * (held-claim.ts).
 */

/** Machine fields a claimed record takes from the machine's own record. */
export const MACHINE_FIELDS = [
  'state',
  'state_before_lost',
  'arch',
  'platform',
  'boot_mode',
  'ip',
  'manufacturer',
  'product',
  'facts_hash',
  'registered_at',
  'summary',
  'tags',
  'agent_active',
  'last_boot_at',
  'last_seen',
  'agent_token_hash',
  'enrol_token_hash',
  'enrol_token_expires_at',
  'enrol_token_verified',
  'install_token_hash',
  'install_token_expires_at',
  'pending_command',
  'reboot_sent_at',
  'error_reason',
  'microkernel_version',
  'agent_version',
] as const;

/**
 * What the machine's boots and registrations wrote on the record after it claimed it (boot-flow.ts, registration.ts,
 * the chain recorder): they go with the machine when a held claim is split off again.
 */
export const LATER_MACHINE_FIELDS = ['facts_complete', 'ipxe_fetched_at', 'ipxe_ran_at', 'auto_chain', 'last_chain'] as const;
