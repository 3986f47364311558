/**
 * How a bundle carries each stored node field (`--with-nodes`, docs/security.md "Bundles"). Every field the
 * node record declares (server/store/docs.ts and the modules that extend it by declaration merging) has a
 * rule here: the map's type does not compile while one is missing, and test/bundle/node-fields.test.ts
 * finds every declaration in the sources and checks it has one. A key no rule names (an undeclared key of
 * an old record) is left out: a field nobody classified never travels.
 */
import type { NodeDoc } from '../store/docs.ts';

/**
 * - `keep`: node data, carried as stored.
 * - `issued`: a credential this appliance issued to the node (a token, its hash), its lifetime and
 *   bookkeeping, or a command queued for the running node: never carried (the node registers again on its
 *   next boot), null (false for a flag).
 * - `sealed`: an object whose `password_enc` is sealed with the data dir's key: the envelope travels only
 *   with the key (`--with-secrets`); otherwise `password_enc` is '' ("no password set", enter it again).
 */
export type NodeFieldRule = 'keep' | 'issued' | 'sealed';

/** The declared keys of a record type with an index signature (the signature's own `string` left out). */
type Declared<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };

/** The rule of every declared node field (a new field does not compile until it is given one). */
export const NODE_FIELD_RULES: { readonly [K in Declared<NodeDoc>]-?: NodeFieldRule } = {
  _id: 'keep',
  id: 'keep',
  state: 'keep',
  state_before_lost: 'keep',
  hostname: 'keep',
  macs: 'keep',
  boot_mac: 'keep',
  uuid: 'keep',
  serial: 'keep',
  manufacturer: 'keep',
  product: 'keep',
  arch: 'keep',
  platform: 'keep',
  boot_mode: 'keep',
  ip: 'keep',
  tags: 'keep',
  policy: 'keep',
  bound_explicitly: 'keep',
  efi_loader: 'keep',
  boot_chain: 'keep',
  auto_chain: 'keep',
  ipxe_fetched_at: 'keep',
  ipxe_ran_at: 'keep',
  firmware: 'keep',
  last_chain: 'keep',
  facts_hash: 'keep',
  agent_token_hash: 'issued',
  enrol_token_hash: 'issued',
  enrol_token_expires_at: 'issued',
  enrol_token_verified: 'issued',
  pending_command: 'issued',
  install_token: 'issued',
  install_token_hash: 'issued',
  install_token_expires_at: 'issued',
  reboot_sent_at: 'keep',
  agent_active: 'keep',
  last_boot_at: 'keep',
  error_reason: 'keep',
  created_at: 'keep',
  registered_at: 'keep',
  last_seen: 'keep',
  summary: 'keep',
  metadata: 'keep',
  conflicts: 'keep',
  kept_apart: 'keep',
  approved: 'keep',
  facts_complete: 'keep',
  bmc: 'sealed',
  power: 'keep',
  bmc_enrolment: 'sealed',
  bmc_redfish: 'keep',
  hostname_locked: 'keep',
  ip_reserved: 'keep',
  manifest: 'keep',
  microkernel_version: 'keep',
  agent_version: 'keep',
  manifest_claim_held: 'keep',
  manifest_held_row: 'keep',
};

const RULES: ReadonlyMap<string, NodeFieldRule> = new Map(Object.entries(NODE_FIELD_RULES));

/** What an `issued` field becomes. */
const cleared = (v: unknown): null | false => (typeof v === 'boolean' ? false : null);

/** `v` with its sealed password removed ('' = none set), when it holds one. */
function unsealed(v: unknown): unknown {
  return v !== null && typeof v === 'object' && 'password_enc' in v ? { ...v, password_enc: '' } : v;
}

/** A stored node as a bundle carries it: every field by its rule; sealed passwords only `withSecrets` (the key travels too). */
export function nodeForBundle(d: NodeDoc, withSecrets: boolean): NodeDoc {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    const rule = RULES.get(k);
    if (rule === 'keep' || (rule === 'sealed' && withSecrets)) out[k] = v;
    else if (rule === 'sealed') out[k] = unsealed(v);
    else if (rule === 'issued') out[k] = cleared(v);
  }
  return out as NodeDoc;
}

/**
 * A node from a bundle as it is stored: credentials another appliance issued are never taken (a bundle made
 * before they were left out of exports may carry an install token's hash that has not expired).
 */
export function nodeFromBundle(d: NodeDoc): NodeDoc {
  const out: Record<string, unknown> = { ...d };
  for (const [k, v] of Object.entries(d)) if (RULES.get(k) === 'issued') out[k] = cleared(v);
  return out as NodeDoc;
}
