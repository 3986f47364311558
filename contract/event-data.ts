/**
 * What each event type carries in `data`: one row per type of contract/event-types.ts. The server's
 * `events.emit` is typed from this table (an unknown type or a payload of the wrong shape does not compile),
 * the renderer narrows `CcEvent` by `type` and reads typed fields, and test/unit/event-data.test.ts checks
 * every event a real appliance flow records against its row. Rows are closed objects (no extra keys), so a
 * field added at an emit site must be added here too: the rack sends hostile bytes and the log keeps only
 * fields someone declared. The renderer imports this file only as types (no TypeBox in the UI bundle).
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from 'typebox';
import type { EventType } from './event-types.ts';
import { EraseDiskSchema, TaskProgressSchema, TaskResultSchema, TASK_FAILURES } from './agent-tasks.ts';
import { NodeConflictSchema, NodeSchema } from './node.ts';
import { ForeignServerSchema } from './system.ts';
import { FileEntrySchema } from './images.ts';
import { BundleImportedSchema, LoaderInstalledSchema } from './prepared.ts';
import { ManifestPlanSchema } from './manifest.ts';
import { RuleSchema } from './admin.ts';
import { BmcIdentitySchema } from './bmc-expected.ts';
import { IsoRepoSchema } from './iso-repo.ts';
import { HOOK_FAILURE_CODES } from './hooks.ts';
import { BMC_ENROLMENT_STATES, BootDeviceSchema, BootModeSchema, PowerActionSchema, PowerStateSchema, TlsPolicySchema } from './bmc.ts';

/** A closed object: the payload has exactly these keys (optional ones may be absent). */
const row = <P extends TProperties>(p: P): TObject<P> => Type.Object(p, { additionalProperties: false });
const Str = Type.String();
const Int = Type.Integer();
const NStr = Type.Union([Type.String(), Type.Null()]);
const NInt = Type.Union([Type.Integer(), Type.Null()]);
const Strs = Type.Array(Type.String());
/** No data: an empty object (`Record<string, never>`, which the routes' open record accepts). */
const Empty = Type.Record(Type.String(), Type.Never());

/** What a boot loader's query said (the fields of `/boot` and GRUB's path), and the address it came from. */
const bootQuery = {
  mac: Str,
  uuid: Type.Optional(Str),
  serial: Type.Optional(Str),
  manufacturer: Type.Optional(Str),
  product: Type.Optional(Str),
  arch: Type.Optional(Str),
  platform: Type.Optional(Str),
  ip: Str,
};

/** One DHCP message received or sent (server/dhcp/request-event.ts): the client's firmware and what it got. */
const DhcpMessage = row({
  xid: Int,
  from: Str,
  ciaddr: NStr,
  giaddr: NStr,
  /** Option 93 (RFC 4578 2.1), first entry. */
  arch: NInt,
  vendor_class: NStr,
  user_class: NStr,
  guid: NStr,
  ipxe: Type.Boolean(),
  ip: Type.Optional(Str),
  /** The boot file answered, null when the client gets none. */
  file: Type.Optional(NStr),
  proxy: Type.Optional(Type.Boolean()),
  port: Type.Optional(Type.Union([Type.Literal('proxy'), Type.Literal('dhcp')])),
  /** proxyDHCP: the option-43 strategy this client gets (null: none chosen). */
  strategy: Type.Optional(NStr),
  lease_s: Type.Optional(Int),
  reason: Type.Optional(Str),
  pool: Type.Optional(Str),
});

/** A TFTP transfer as negotiated (RFC 2347 options the client asked for, the values granted). */
const tftpStart = {
  file: Str,
  requested: Str,
  client: Str,
  size: Int,
  blksize: Int,
  windowsize: Int,
  options: Type.Record(Type.String(), Type.String()),
};
/** A TFTP transfer as it ended. */
const tftpEnd = row({
  ...tftpStart,
  bytes: Int,
  duration_ms: Int,
  retransmits: Int,
  reason: Str,
  detail: Type.Optional(Str),
});

const ServiceState = Type.Union([
  /** A service of the network plane started, failed or stopped (server/compose/network-services.ts). */
  row({ service: Str, state: Str, detail: Type.Optional(Str), error: Type.Optional(Type.Unknown()) }),
  /** DHCP paused or resumed with its NIC. */
  row({
    service: Type.Literal('dhcp'),
    state: Type.Union([Type.Literal('serving'), Type.Literal('paused')]),
    link: row({ exists: Type.Boolean(), up: Type.Boolean(), ipv4: Strs }),
  }),
  /** The IPv6 router-advertisement responder could not start. */
  row({ service: Type.Literal('ipv6-ra'), why: Str }),
]);

const BmcAddress = { address: Str, port: Int };
const EnrolState = Type.Enum(BMC_ENROLMENT_STATES);

/** Every event type -> the schema of its `data`. */
export const EVENT_DATA = {
  'node.discovered': Type.Union([
    row(bootQuery),
    row({
      mac: Str,
      arch: Type.Optional(NInt),
      vendorClass: Type.Optional(NStr),
      userClass: Type.Optional(NStr),
      guid: Type.Optional(NStr),
      ip: Type.Optional(NStr),
      ipxe: Type.Optional(Type.Boolean()),
    }),
  ]),
  'node.boot': row({ action: Str, loader: Type.Union([Type.Literal('ipxe'), Type.Literal('grub')]), ...bootQuery }),
  'node.registered': row({ macs: Strs, summary: NodeSchema.properties.summary }),
  'node.facts_changed': row({ facts_hash: Str, facts_complete: Type.Boolean() }),
  'node.merged': row({ into: Int, from: Int, macs: Strs }),
  'node.conflict': NodeConflictSchema,
  'node.config_refused': row({ server_url: Str, count: Int }),
  'node.conflict_dismissed': row({ other: Int, dismissed: Type.Array(NodeConflictSchema) }),
  'node.approved': Empty,
  'node.suppressed': row({
    kind: Type.Union([
      Type.Literal('create'),
      Type.Literal('discovered'),
      Type.Literal('events'),
      Type.Literal('facts'),
      Type.Literal('dhcp_events'),
      Type.Literal('tftp_events'),
      Type.Literal('node_events'),
    ]),
    source: Str,
    dropped: Type.Optional(Int),
    tripped: Type.Boolean(),
  }),
  'node.token_refused': row({ ip: Str, reason: Str }),
  'node.checkin': row({ state: Str }),
  'node.lost': row({ last_seen: NStr }),
  'node.found': Empty,
  'node.tags_changed': row({ added: Strs, removed: Strs }),
  'node.bound': row({ policy: Str, explicit: Type.Boolean(), hostname: NStr }),
  'node.unbound': row({ policy: NStr }),
  'node.reinstall': row({ policy: NStr }),
  'node.reboot_sent': row({ policy: Type.Optional(Str) }),
  'node.poweroff_sent': Empty,
  'node.stage': row({ stage: Str, from: Str, to: Str, detail: Type.Optional(Str) }),
  'node.task_started': row({ task: Str, job_id: Str, policy: Str, image: NStr }),
  'node.task_progress': row({ job_id: Str, progress: TaskProgressSchema }),
  'node.task_written': row({ job_id: Str, result: Type.Union([TaskResultSchema, Type.Null()]) }),
  'node.task_failed': row({ task: Str, job_id: Str, code: Type.Enum(TASK_FAILURES), fix: Str }),
  'node.task_succeeded': row({ task: Str, job_id: Str, result: Type.Union([TaskResultSchema, Type.Null()]) }),
  'node.disk_erased': row({ job_id: Str, disk: EraseDiskSchema }),
  'node.forgotten': row({ macs: Strs }),
  'node.chain': Type.Union([
    /** A GRUB node whose task has only an iPXE form. */
    row({ chain: Type.Literal('shim-grub'), reason: Type.Literal('task-needs-ipxe'), problem: Str }),
    /** Secure Boot refused the unsigned iPXE: the node gets shim/GRUB from now on. */
    row({ chain: Type.Literal('shim'), reason: Type.Literal('ipxe-refused'), ipxe_fetched_at: NStr, ipxe_ran_at: NStr }),
  ]),
  'node.address': row({ ip: NStr, note: NStr }),
  'node.expected': Type.Union([
    /** A manifest row made or updated the record. */
    row({ row: Int, source: Str, action: Str, changes: Strs }),
    /** Identifiers read from the node's BMC made or updated it. */
    row({ origin: Type.Literal('bmc'), identity: BmcIdentitySchema, warnings: Strs }),
  ]),
  'node.claimed': Type.Union([
    /** The expected machine arrived (`from`: the record it folded in, if any). */
    row({ row: Int, matched_by: Str, from: NInt, reservation_note: NStr }),
    /** It differs from its manifest row. */
    row({ mismatch: Strs }),
    /** The operator accepted the differences. */
    row({ accepted: Strs }),
    /** `mac`, one the row lists, took the record while its claim was held for another machine: `held_macs` split off to `split_to`. */
    row({ row: Int, mac: Str, held_macs: Strs, split_to: Int }),
  ]),
  'node.edited': Type.Union([row({ fields: Strs }), row({ metadata_key: Str })]),
  'manifest.imported': row({ source: Str, counts: ManifestPlanSchema.properties.counts }),
  'dhcp.discover': DhcpMessage,
  'dhcp.offer': DhcpMessage,
  'dhcp.request': DhcpMessage,
  'dhcp.ack': DhcpMessage,
  'dhcp.nak': DhcpMessage,
  'dhcp.decline': DhcpMessage,
  'dhcp.release': DhcpMessage,
  'dhcp.inform': DhcpMessage,
  'dhcp.unsupported': DhcpMessage,
  'dhcp.proxy': row({ strategy: Str, ip: Type.Optional(Str) }),
  'dhcp.foreign_server': Type.Union([
    /** Found at start-up (serving refused). */
    row({ servers: Type.Array(ForeignServerSchema), overflow: Int }),
    /** Appeared while serving. */
    row({ ...ForeignServerSchema.properties, mode: Type.Union([Type.Literal('full'), Type.Literal('proxy')]) }),
  ]),
  'dhcp.malformed': row({ from: Str, offset: Int, reason: Str, total: Int }),
  'dhcp.reservation': row({ mac: Str, ip: NStr, hostname: Type.Optional(NStr) }),
  'tftp.start': row(tftpStart),
  'tftp.finish': tftpEnd,
  'tftp.error': Type.Union([
    tftpEnd,
    /** The file could not be opened (not found, outside the roots). */
    row({ file: Str, served: NStr, client: Str, reason: Str, bytes: Int }),
  ]),
  'http.transfer': Type.Union([
    /** An unauthenticated download from the node plane. */
    row({ url: Str, ip: Str, bytes: NInt }),
    /** An answer file rendered for a node. */
    row({ file: Str, bytes: Int }),
  ]),
  'service.state': ServiceState,
  'service.error': ServiceState,
  'tag.changed': row({ name: Str, rule: Type.Optional(RuleSchema) }),
  'policy.changed': Type.Union([row({ name: Str }), row({ order: Strs })]),
  'image.imported': Type.Union([
    row({ image: Str, file: FileEntrySchema }),
    row({ image: Str, kind: Type.Literal('disk'), sha256: Str, stored_sha256: Str, firmware: Str, first_boot: Str }),
    /** A package repository unpacked from an installer ISO. */
    row({ image: Str, kind: Type.Literal('repo'), repo: IsoRepoSchema }),
  ]),
  'microkernel.installed': row({ dir: Str, version: Str, arch: Str }),
  'loader.installed': LoaderInstalledSchema,
  'bundle.imported': BundleImportedSchema,
  'boot.loader_missing': row({
    file: Str,
    artifact: Str,
    arch: Str,
    via: Type.Union([Type.Literal('tftp'), Type.Literal('http')]),
    client: Str,
    fix: Str,
  }),
  'admin.signed_out_everywhere': row({ sessions_ended: Int }),
  'admin.secrets_exported': row({ what: Str, count: Int }),
  'store.repaired': row({ file: Str, cutBytes: Int }),
  'bmc.action': row({
    action: PowerActionSchema,
    /** The next-boot override that was asked with it. */
    boot: Type.Union([row({ device: BootDeviceSchema, persistent: Type.Boolean(), mode: Type.Optional(BootModeSchema) }), Type.Null()]),
    power: Type.Optional(PowerStateSchema),
    warnings: Strs,
  }),
  'bmc.warning': row({ action: Str }),
  'bmc.error': Type.Union([
    /** A power action failed. */
    row({ action: Str, code: Type.Optional(Str) }),
    /** The enrolled BMC did not answer with its new credentials. */
    row({ state: Type.Literal('enrolled'), power: Type.Union([PowerStateSchema, Type.Null()]), code: NStr, redfish: Type.Boolean() }),
  ]),
  'bmc.tls_pinned': row({ ...BmcAddress, fingerprint: Str }),
  'bmc.tls_changed': row({ expected: Type.Unknown(), presented: Type.Unknown() }),
  'bmc.configured': row({
    driver: Str,
    ...BmcAddress,
    username: Str,
    tls: TlsPolicySchema,
    by: Type.Literal('operator'),
  }),
  'bmc.removed': row({ address: NStr }),
  'bmc.power_changed': row({ before: Type.Union([PowerStateSchema, Type.Null()]), power: PowerStateSchema, reason: Type.Optional(Str) }),
  'bmc.enrolment': Type.Union([
    /** Asked of the agent, or refused/waiting (the state says which). */
    row({ state: EnrolState }),
    /** The operator asked for enrolment. */
    row({ state: EnrolState, by: Type.Literal('operator') }),
    /** A report the appliance did not ask for, refused (`ip`: where it came from). */
    row({ state: Type.Union([EnrolState, Type.Null()]), refused: Type.Literal(true), ip: Str }),
    /** The agent's report. */
    row({ state: EnrolState, address: NStr, username: NStr, channel: NInt, user_id: NInt }),
    /** The operator accepted the in-band BMC. */
    row({ state: Type.Literal('enrolled'), address: Str, by: Type.Literal('operator') }),
    /** The enrolled BMC answers with its new credentials. */
    row({ state: Type.Literal('enrolled'), power: Type.Union([PowerStateSchema, Type.Null()]), code: NStr, redfish: Type.Boolean() }),
  ]),
  /** A hook delivery failed for good (docs/hooks.md): never the URL's secret parts, never the payload. */
  'hook.failed': row({
    hook_id: Str,
    hook: Str,
    /** The script, or the webhook URL's display form. */
    target: Str,
    delivery_id: Str,
    /** The hook event (`registered` ... `lost`, or `test`). */
    event: Str,
    attempts: Int,
    code: Type.Enum(HOOK_FAILURE_CODES),
    error: Str,
    fix: Str,
  }),
} as const satisfies Record<EventType, TSchema>;

/** The `dhcp.*` types whose data is one DHCP message (server/dhcp/request-event.ts). */
export type DhcpMessageEventType =
  | 'dhcp.discover'
  | 'dhcp.offer'
  | 'dhcp.request'
  | 'dhcp.ack'
  | 'dhcp.nak'
  | 'dhcp.decline'
  | 'dhcp.release'
  | 'dhcp.inform'
  | 'dhcp.unsupported';
/** The data of one DHCP message event. */
export type DhcpMessageData = Static<typeof DhcpMessage>;
/** What a DHCP server adds to the firmware facts of a message (the address, file, strategy it answered with). */
export type DhcpMessageExtra = Partial<
  Pick<DhcpMessageData, 'ip' | 'file' | 'proxy' | 'port' | 'strategy' | 'lease_s' | 'reason' | 'pool'>
>;

/** The `data` of an event of type `T`. */
export type EventData<T extends EventType> = Static<(typeof EVENT_DATA)[T]>;
