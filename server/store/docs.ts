/** The shapes of what each collection holds on disk. */
import type { DiskImageInfo } from '../../contract/disk-image.ts';
import type { IsoRepo } from '../../contract/iso-repo.ts';
import type { BootChain, BootChainSetting } from '../../contract/boot-chain.ts';
import type { Facts, Inventory, NodeState, TaskField } from '../../contract/index.ts';

/** A node as stored (facts live in the `facts` collection to keep this small). */
export interface NodeDoc {
  _id: string;
  id: number;
  state: NodeState;
  state_before_lost?: NodeState;
  hostname: string | null;
  macs: string[];
  boot_mac: string | null;
  uuid: string | null;
  serial: string | null;
  manufacturer: string | null;
  product: string | null;
  arch: string | null;
  platform: string | null;
  boot_mode: string | null;
  ip: string | null;
  tags: string[];
  policy: string | null;
  bound_explicitly: boolean;
  efi_loader: 'ipxe.efi' | 'snponly.efi' | null;
  /** The operator's UEFI chain for this node (null: its tags' or the appliance's). */
  boot_chain?: BootChainSetting | null;
  /** What `boot_chain: auto` learned: the firmware refused iPXE (or the agent saw Secure Boot on), so shim. */
  auto_chain?: 'shim' | null;
  /** When an iPXE EFI loader was last fetched by this node, and when an iPXE we served last ran (auto). */
  ipxe_fetched_at?: string | null;
  ipxe_ran_at?: string | null;
  /**
   * Firmware identified by DHCP (option 93 = 22) until 2026-12-07. No longer written or read: one forged packet set it
   * for good; U-Boot is now remembered per boot (docs/identity.md 5). Kept so stored records still load.
   */
  firmware?: 'u-boot' | null;
  /** The chain the node's last network boot took (recorded from DHCP and HTTP, docs/boot.md). */
  last_chain?: BootChain | null;
  facts_hash: string | null;
  agent_token_hash: string | null;
  enrol_token_hash: string | null;
  pending_command: 'reboot' | 'poweroff' | null;
  /** Token in answer-file and stage URLs of the current install (rendered into scripts, so stored plain). */
  install_token?: string | null;
  /** When the reboot into the bound task was first sent (null = not yet). */
  reboot_sent_at?: string | null;
  /** True while the agent runs in the microkernel (only then can the node become `lost`). */
  agent_active?: boolean;
  /** When /boot last answered with the microkernel. */
  last_boot_at?: string | null;
  /** Why the node is in the `error` state. */
  error_reason?: string | null;
  created_at: string;
  registered_at: string | null;
  last_seen: string | null;
  summary: {
    cpu_model: string | null;
    cpu_count: number | null;
    memory_mb: number | null;
    disk_count: number | null;
    disk_total_bytes: number | null;
    nic_count: number | null;
    bmc_ip: string | null;
  };
  metadata: Record<string, unknown>;
  [k: string]: unknown;
}

/** Facts and inventory of one node (`_id` = node id). */
export interface FactsDoc {
  _id: string;
  facts: Facts;
  inventory: Inventory | null;
  updated_at: string;
  [k: string]: unknown;
}

/** A tag (`_id` = name). */
export interface TagDoc {
  _id: string;
  name: string;
  rule: unknown[];
  description: string;
  /** Boot settings this tag gives its nodes (node > tag > appliance); absent or null = not set. */
  boot_chain?: BootChainSetting | null;
  efi_loader?: 'ipxe.efi' | 'snponly.efi' | null;
  [k: string]: unknown;
}

/** A policy (`_id` = name). */
export interface PolicyDoc {
  _id: string;
  name: string;
  priority: number;
  enabled: boolean;
  tags: string[];
  max_count: number | null;
  task: string;
  image: string | null;
  hostname_template: string;
  root_password_hash: string | null;
  ssh_keys: string[];
  metadata: Record<string, unknown>;
  [k: string]: unknown;
}

/** A user task (`_id` = name); built-in tasks are not stored. */
export interface TaskDoc {
  _id: string;
  name: string;
  description: string;
  ipxe: string;
  templates: Record<string, string>;
  /** Policy settings the task needs (absent on tasks saved before fields existed). */
  fields?: TaskField[];
  /** The task installs an OS someone logs in to. */
  login?: boolean;
  [k: string]: unknown;
}

/** An imported OS image (`_id` = name). */
export interface ImageDoc {
  _id: string;
  name: string;
  kind: 'kernel-initrd' | 'iso' | 'disk';
  files: { name: string; size: number; sha256: string }[];
  created_at: string;
  /** For kind `disk`: checksums, partition table, firmware, first boot (contract/disk-image.ts). */
  disk?: DiskImageInfo;
  /** The package repository unpacked from an installer ISO, served at /images/NAME/repo/ (contract/iso-repo.ts). */
  repo?: IsoRepo;
  [k: string]: unknown;
}

/** A DHCP lease (`_id` = MAC, canonical lowercase). */
export interface LeaseDoc {
  _id: string;
  mac: string;
  ip: string;
  state: 'offered' | 'bound' | 'released' | 'declined' | 'expired';
  expires_at: number;
  pool: string;
  hostname: string | null;
  client_id: string | null;
  updated_at: number;
  [k: string]: unknown;
}

/** A DHCP reservation (`_id` = the MAC): this MAC always gets this address in full mode. */
export interface ReservationDoc {
  _id: string;
  mac: string;
  ip: string;
  hostname: string | null;
  updated_at: number;
  [k: string]: unknown;
}

/** One event (`_id` = seq as a zero-padded string, so it sorts). */
export interface EventDoc {
  _id: string;
  seq: number;
  ts: string;
  type: string;
  node_id: number | null;
  mac: string | null;
  message: string;
  data: Record<string, unknown>;
  [k: string]: unknown;
}

/** One setting (`_id` = key). */
export interface SettingDoc {
  _id: string;
  value: unknown;
  [k: string]: unknown;
}

/**
 * A hook (`_id` = its id); `url_enc` and `secret` are sealed envelopes (server/secrets), never answered. `url` is the
 * webhook URL's display form (server/hooks/hook-url.ts); on a record written before URLs were sealed (no `url_enc`)
 * it is the full URL, sealed when the hook service starts.
 */
export interface HookDoc {
  _id: string;
  name: string;
  events: string[];
  kind: 'script' | 'webhook';
  script: string | null;
  url: string | null;
  url_enc?: string | null;
  secret: string | null;
  created_at: string;
  [k: string]: unknown;
}

/** One hook delivery (the log is capped: server/hooks/hook-store.ts). */
export interface HookDeliveryDoc {
  _id: string;
  hook_id: string;
  event: string;
  event_seq: number;
  node_id: number | null;
  status: 'pending' | 'retrying' | 'ok' | 'failed';
  attempts: number;
  last_error: string | null;
  /** When the next attempt is due (pending/retrying), else null; absent on records written before it existed. */
  next_attempt_at?: string | null;
  /** The JSON sent on every attempt (kept so a restart retries the same bytes). */
  payload?: string;
  created_at: string;
  updated_at: string;
  [k: string]: unknown;
}
