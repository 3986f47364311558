/** BMC (out-of-band power and boot control) shapes, shared by server, agent and renderer. */
import { Type, type Static } from 'typebox';

/** Which protocol talks to the BMC. */
export const BmcDriverKindSchema = Type.Union([Type.Literal('ipmi'), Type.Literal('redfish')]);
/** BMC driver kind. */
export type BmcDriverKind = Static<typeof BmcDriverKindSchema>;

/** Redfish TLS policy: verify against the system CAs, pin the first certificate seen (default), or skip checks. */
export const TlsPolicySchema = Type.Union([Type.Literal('verify'), Type.Literal('pin'), Type.Literal('skip')]);
/** TLS policy. */
export type TlsPolicy = Static<typeof TlsPolicySchema>;

/** A BMC address: a host name, IPv4 or IPv6 literal (never starts with '-', so it can never be read as a tool option). */
export const BmcAddressSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$' });
/** A Redfish system resource path. */
export const SystemPathSchema = Type.String({ pattern: "^/redfish/v1/Systems/[A-Za-z0-9._~%:@!$&'()*+,;=-]+$", maxLength: 512 });

/** PUT /api/v1/nodes/ID/bmc: the password is write-only (never returned); left out, the stored one is kept. */
export const BmcInputSchema = Type.Object(
  {
    driver: BmcDriverKindSchema,
    address: BmcAddressSchema,
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // Printable, no control characters: it goes into a child's environment or an HTTP header.
    username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7e]+$' }),
    password: Type.Optional(Type.String({ maxLength: 256, pattern: '^[\\x20-\\x7e]*$' })),
    system_path: Type.Optional(SystemPathSchema),
    tls: Type.Optional(TlsPolicySchema),
    /** IPMI 2.0 cipher suite (22.15.2 of the spec); 3 (what MAAS defaults to) unless the BMC needs another, 17 where offered. */
    ipmi_cipher_suite: Type.Optional(Type.Integer({ minimum: 0, maximum: 17 })),
  },
  { additionalProperties: false },
);
/** BMC input. */
export type BmcInput = Static<typeof BmcInputSchema>;

/** Power states a BMC reports. */
export const PowerStateSchema = Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('unknown')]);
/** Power state. */
export type PowerState = Static<typeof PowerStateSchema>;

/** A node's BMC as the API shows it: never the password, only whether one is set. */
export const BmcViewSchema = Type.Object({
  driver: BmcDriverKindSchema,
  address: Type.String(),
  port: Type.Integer(),
  username: Type.String(),
  password_set: Type.Boolean(),
  system_path: Type.Union([Type.String(), Type.Null()]),
  tls: TlsPolicySchema,
  /** SHA-256 of the pinned leaf certificate (`AB:CD:...`), once pinned. */
  tls_fingerprint: Type.Union([Type.String(), Type.Null()]),
  ipmi_cipher_suite: Type.Union([Type.Integer(), Type.Null()]),
});
/** BMC view. */
export type BmcView = Static<typeof BmcViewSchema>;

/** Power actions: `off` is soft then hard after a timeout; `soft-off` asks the OS only; `cycle` is off then on; `reset` is a hard reset. */
export const PowerActionSchema = Type.Union([
  Type.Literal('on'),
  Type.Literal('off'),
  Type.Literal('soft-off'),
  Type.Literal('cycle'),
  Type.Literal('reset'),
  Type.Literal('status'),
]);
/** Power action. */
export type PowerAction = Static<typeof PowerActionSchema>;

/** Next boot device. */
export const BootDeviceSchema = Type.Union([Type.Literal('pxe'), Type.Literal('disk'), Type.Literal('bios')]);
/** Boot device. */
export type BootDevice = Static<typeof BootDeviceSchema>;

/** Firmware boot mode for the override. */
export const BootModeSchema = Type.Union([Type.Literal('uefi'), Type.Literal('legacy')]);
/** Boot mode. */
export type BootMode = Static<typeof BootModeSchema>;

/** POST /api/v1/nodes/power */
export const PowerRequestSchema = Type.Object(
  {
    node_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100000 }),
    action: PowerActionSchema,
    boot: Type.Optional(BootDeviceSchema),
    persistent: Type.Optional(Type.Boolean()),
    mode: Type.Optional(BootModeSchema),
  },
  { additionalProperties: false },
);
/** Power request. */
export type PowerRequest = Static<typeof PowerRequestSchema>;

/** One node's outcome of a power request: `reason` and `code` when it failed, `warnings` for what did not stop it. */
export const PowerNodeResultSchema = Type.Object({
  node_id: Type.Integer(),
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  power: Type.Optional(PowerStateSchema),
  warnings: Type.Optional(Type.Array(Type.String())),
});
/** Per-node power result. */
export type PowerNodeResult = Static<typeof PowerNodeResultSchema>;

/** Answer of POST /api/v1/nodes/power. */
export const PowerResultSchema = Type.Object({ results: Type.Array(PowerNodeResultSchema) });
/** Power result. */
export type PowerResult = Static<typeof PowerResultSchema>;

/** A node's last known power state and when the BMC reported it. */
export const NodePowerSchema = Type.Object({ state: PowerStateSchema, checked_at: Type.String() });
/** Node power state. */
export type NodePower = Static<typeof NodePowerSchema>;

/** Whether the node's BMC answered as a Redfish service (`GET /redfish/v1/`), recorded at enrolment. */
export const RedfishDetectionSchema = Type.Object({
  detected: Type.Boolean(),
  /** RedfishVersion of the service root when detected. */
  version: Type.Union([Type.String(), Type.Null()]),
  /** Why not, when not detected (no answer, not HTTPS, not a service root). */
  reason: Type.Union([Type.String(), Type.Null()]),
  checked_at: Type.String(),
});
/** Redfish detection. */
export type RedfishDetection = Static<typeof RedfishDetectionSchema>;

/**
 * Where in-band BMC enrolment of a node stands (docs/bmc.md "In-band enrolment"):
 * `awaiting-approval` (approval_required and the node is not approved: nothing is asked of the agent),
 * `requested` (the next check-in asks the agent to enrol), `no-address` (the BMC reported no LAN address: the
 * operator enters one), `outside-subnets` (the reported address is outside bmc_allowed_subnets: the operator
 * accepts it or not), `enrolled` (the node's BMC was set from it), `failed` (the agent could not enrol).
 */
export const BMC_ENROLMENT_STATES = ['awaiting-approval', 'requested', 'no-address', 'outside-subnets', 'enrolled', 'failed'] as const;
/** One enrolment state. */
export type BmcEnrolmentState = (typeof BMC_ENROLMENT_STATES)[number];

/** In-band enrolment as the API shows it (the password the agent set is never shown). */
export const BmcEnrolmentViewSchema = Type.Object({
  state: Type.Enum(BMC_ENROLMENT_STATES),
  /** The BMC's LAN address the agent reported (null: none). */
  address: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  /** What the operator should know or do. */
  reason: Type.Union([Type.String(), Type.Null()]),
  at: Type.Union([Type.String(), Type.Null()]),
});
/** Enrolment view. */
export type BmcEnrolmentView = Static<typeof BmcEnrolmentViewSchema>;

/** POST /api/v1/nodes/ID/bmc/accept: use the credentials the agent enrolled, at the reported address or this one. */
export const BmcAcceptSchema = Type.Object({ address: Type.Optional(BmcAddressSchema) }, { additionalProperties: false });
/** Accept request. */
export type BmcAccept = Static<typeof BmcAcceptSchema>;

/** The IPMI user name in-band enrolment creates or reuses on a node's BMC. */
export const ENROLLED_BMC_USER = 'crashcart';

/** GET /api/v1/export/nodes.json query: BMC fields (with their passwords) only when asked (docs/bmc.md). */
export const ExportNodesQuerySchema = Type.Object({ with_secrets: Type.Optional(Type.Boolean()) });
