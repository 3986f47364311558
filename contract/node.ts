/**
 * The node model shared by server, agent and renderer: states, the structured
 * inventory the agent sends, and the node record the admin API returns.
 */
import { Type, type Static } from 'typebox';
import { BOOT_CHAINS, BOOT_CHAIN_SETTINGS } from './boot-chain.ts';
import { BmcEnrolmentViewSchema, BmcViewSchema, NodePowerSchema, RedfishDetectionSchema } from './bmc.ts';
import { NodeTaskSchema } from './agent-tasks.ts';
import { ManifestLinkSchema } from './manifest.ts';

/** Schema of the `boot_chain` setting (node, tag, appliance). */
export const BootChainSettingSchema = Type.Enum(BOOT_CHAIN_SETTINGS);
/** Schema of a recorded boot chain. */
export const BootChainSchema = Type.Enum(BOOT_CHAINS);
/** Schema of the UEFI x86 iPXE build choice. */
export const EfiLoaderSchema = Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi')]);

/** Every state a node can be in (Razor lineage, plus lost/error; `expected`: a manifest row no machine claimed yet). */
export const NODE_STATES = [
  'expected',
  'discovered',
  'booting-microkernel',
  'registered',
  'bound',
  'installing',
  'installed',
  'lost',
  'error',
] as const;
/** One node state. */
export type NodeState = (typeof NODE_STATES)[number];
/** Schema of a node state. */
export const NodeStateSchema = Type.Enum(NODE_STATES);

/**
 * A host name as the operator gives it to a node (RFC 1123 labels, lowercase): what DHCP option 12, the
 * installers and the boot-text whitelist (docs/identity.md 4) all accept.
 */
export const HOSTNAME_PATTERN = '^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';

/** Flat Facter-style facts: what tag rules read. */
export const FactsSchema = Type.Record(
  Type.String({ maxLength: 256 }),
  Type.Union([Type.String({ maxLength: 65536 }), Type.Number(), Type.Boolean(), Type.Null()]),
);
/** Flat facts. */
export type Facts = Static<typeof FactsSchema>;

const Str = Type.Optional(Type.String({ maxLength: 4096 }));
const Num = Type.Optional(Type.Number());

/** LLDP neighbour seen on one NIC. */
export const LldpNeighbourSchema = Type.Object({
  switch_name: Str,
  switch_id: Str,
  port_id: Str,
  port_descr: Str,
  vlan: Num,
  mgmt_ip: Str,
});

/** One NIC as the agent saw it. */
export const NicSchema = Type.Object({
  name: Type.String({ maxLength: 64 }),
  mac: Type.String({ maxLength: 64 }),
  driver: Str,
  driver_version: Str,
  firmware_version: Str,
  bus_info: Str,
  speed_mbps: Num,
  link: Type.Optional(Type.Boolean()),
  mtu: Num,
  ipv4: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
  ipv6: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
  lldp: Type.Optional(LldpNeighbourSchema),
});

/** One block device. */
export const DiskSchema = Type.Object({
  name: Type.String({ maxLength: 128 }),
  size_bytes: Type.Number(),
  model: Str,
  serial: Str,
  wwn: Str,
  /** A SCSI disk's address, host:channel:target:lun (lsblk's HCTL). */
  hctl: Str,
  vendor: Str,
  rotational: Type.Optional(Type.Boolean()),
  transport: Str,
  type: Str,
});

/** One memory module (SMBIOS type 17). */
export const MemoryModuleSchema = Type.Object({
  locator: Str,
  size_mb: Type.Number(),
  type: Str,
  speed_mts: Num,
  manufacturer: Str,
  serial: Str,
  part_number: Str,
});

/** A PCI device, optionally with the driver bound to it. */
export const PciDeviceSchema = Type.Object({
  slot: Type.String({ maxLength: 64 }),
  vendor_id: Type.String({ maxLength: 8 }),
  device_id: Type.String({ maxLength: 8 }),
  class_id: Str,
  description: Str,
  driver: Str,
});

/** The BMC (IPMI) if one answered. */
export const BmcSchema = Type.Object({
  ipv4: Str,
  mac: Str,
  ip_source: Str,
  firmware_version: Str,
  manufacturer: Str,
  ipmi_version: Str,
  fru_serial: Str,
  fru_product: Str,
});

/** A collector that failed or whose tool is missing: never a crash. */
export const CollectorErrorSchema = Type.Object({
  collector: Type.String({ maxLength: 64 }),
  error: Type.String({ maxLength: 4096 }),
});

/** The structured inventory, in the spirit of Ironic's. */
export const InventorySchema = Type.Object({
  system: Type.Object({
    manufacturer: Str,
    product: Str,
    version: Str,
    serial: Str,
    uuid: Str,
    sku: Str,
    family: Str,
    chassis_type: Str,
    baseboard_product: Str,
    baseboard_serial: Str,
    is_virtual: Type.Optional(Type.Boolean()),
  }),
  firmware: Type.Object({
    vendor: Str,
    version: Str,
    date: Str,
    boot_mode: Type.Union([Type.Literal('bios'), Type.Literal('uefi'), Type.Literal('unknown')]),
    /** UEFI Secure Boot enforcing (the SecureBoot variable); absent when it could not be read. */
    secure_boot: Type.Optional(Type.Boolean()),
  }),
  cpu: Type.Object({
    model: Str,
    architecture: Str,
    sockets: Num,
    cores: Num,
    threads: Num,
    mhz: Num,
    flags: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1024 })),
  }),
  memory: Type.Object({
    total_mb: Num,
    modules: Type.Array(MemoryModuleSchema, { maxItems: 256 }),
  }),
  disks: Type.Array(DiskSchema, { maxItems: 1024 }),
  nics: Type.Array(NicSchema, { maxItems: 256 }),
  bmc: Type.Optional(BmcSchema),
  pci: Type.Array(PciDeviceSchema, { maxItems: 4096 }),
  /** NICs present on the PCI bus that no driver claimed in this microkernel. */
  undriven_nics: Type.Array(PciDeviceSchema, { maxItems: 256 }),
  collector_errors: Type.Array(CollectorErrorSchema, { maxItems: 256 }),
});
/** The structured inventory. */
export type Inventory = Static<typeof InventorySchema>;

/** Which identifier two records share. */
export const CONFLICT_FIELDS = ['mac', 'uuid', 'serial'] as const;

/**
 * An identifier this node reported that another record already holds (docs/identity.md 1): it was not
 * added to this node; the operator merges the two records or keeps them apart.
 */
export const NodeConflictSchema = Type.Object({
  /** The record that holds the identifier. */
  node_id: Type.Integer(),
  field: Type.Enum(CONFLICT_FIELDS),
  value: Type.String(),
});
/** One identity conflict. */
export type NodeConflict = Static<typeof NodeConflictSchema>;

/** The node record as the admin API and the UI see it. */
export const NodeSchema = Type.Object({
  id: Type.Integer(),
  hostname: Type.Union([Type.String(), Type.Null()]),
  state: NodeStateSchema,
  /** State before the node went lost, restored when it is heard again. */
  state_before_lost: Type.Optional(NodeStateSchema),
  macs: Type.Array(Type.String()),
  boot_mac: Type.Union([Type.String(), Type.Null()]),
  uuid: Type.Union([Type.String(), Type.Null()]),
  serial: Type.Union([Type.String(), Type.Null()]),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  product: Type.Union([Type.String(), Type.Null()]),
  arch: Type.Union([Type.String(), Type.Null()]),
  platform: Type.Union([Type.String(), Type.Null()]),
  boot_mode: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  policy: Type.Union([Type.String(), Type.Null()]),
  bound_explicitly: Type.Boolean(),
  efi_loader: Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi'), Type.Null()]),
  /** The operator's UEFI chain for this node; null: its tags' or the appliance's setting (node > tag > appliance). */
  boot_chain: Type.Union([BootChainSettingSchema, Type.Null()]),
  /** The chain that applies now and which layer decided it (e.g. `shim (tag secureboot)`, `shim (auto: iPXE refused)`). */
  boot_chain_effective: Type.String(),
  /** The chain the node's last network boot took (BIOS iPXE, UEFI iPXE, shim/GRUB, HTTP boot, U-Boot). */
  last_chain: Type.Union([BootChainSchema, Type.Null()]),
  facts_hash: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  registered_at: Type.Union([Type.String(), Type.Null()]),
  last_seen: Type.Union([Type.String(), Type.Null()]),
  /** Short summary for tables: cpu, memory, disks, nics, bmc. */
  summary: Type.Object({
    cpu_model: Type.Union([Type.String(), Type.Null()]),
    cpu_count: Type.Union([Type.Number(), Type.Null()]),
    memory_mb: Type.Union([Type.Number(), Type.Null()]),
    disk_count: Type.Union([Type.Number(), Type.Null()]),
    disk_total_bytes: Type.Union([Type.Number(), Type.Null()]),
    nic_count: Type.Union([Type.Number(), Type.Null()]),
    bmc_ip: Type.Union([Type.String(), Type.Null()]),
  }),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  /** Identifiers this node reported that other records hold: shown in the UI, resolved by the operator. */
  conflicts: Type.Array(NodeConflictSchema),
  /** Approved for automatic actions (always true while the setting approval_required is off). */
  approved: Type.Boolean(),
  /** The hostname was set by the operator (node page, manifest): binding keeps it instead of the policy's template. */
  hostname_locked: Type.Boolean(),
  /** The address the node's OS gets (manifest, node page): a DHCP reservation of its boot MAC where DHCP is full. */
  ip_reserved: Type.Union([Type.String(), Type.Null()]),
  /** The DHCP reservation held by one of the node's MACs. */
  reservation: Type.Union([
    Type.Object({ mac: Type.String(), ip: Type.String(), hostname: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  /** The manifest row this record came from or was matched to. */
  manifest: Type.Union([ManifestLinkSchema, Type.Null()]),
  /** Microkernel image the node last registered from (as its boot script named it). */
  microkernel_version: Type.Union([Type.String(), Type.Null()]),
  /** Agent version the node last registered with. */
  agent_version: Type.Union([Type.String(), Type.Null()]),
  /** Registered from another microkernel than the one installed now (rediscover it to refresh its facts). */
  microkernel_outdated: Type.Boolean(),
  /** false while the agent has sent only its fast facts (the slow ones follow); no rule binds the node until true. */
  facts_complete: Type.Boolean(),
  /** The node's BMC without its password (docs/bmc.md); null when none is set. */
  bmc: Type.Optional(Type.Union([BmcViewSchema, Type.Null()])),
  /** Last power state the BMC reported (the poller and every power action update it). */
  power: Type.Optional(Type.Union([NodePowerSchema, Type.Null()])),
  /** In-band BMC enrolment, when it applies to this node. */
  bmc_enrolment: Type.Optional(Type.Union([BmcEnrolmentViewSchema, Type.Null()])),
  /** Whether the enrolled BMC answers Redfish. */
  bmc_redfish: Type.Optional(Type.Union([RedfishDetectionSchema, Type.Null()])),
  /** The current or last microkernel task (deploy, erase, burn-in): progress, outcome, failure with its fix. */
  task: Type.Optional(Type.Union([NodeTaskSchema, Type.Null()])),
});
/** The node record. */
export type Node = Static<typeof NodeSchema>;
