/**
 * The appliance's own state as the admin API reports it: services, the
 * network config in force, the machine's NICs, the foreign-DHCP probe and the
 * Setup screen's requests. Shared by server (response schemas), renderer and
 * the Electron tray (types).
 */
import { Type, type Static } from 'typebox';

/** States a service can be in. */
export const SERVICE_STATES = ['running', 'stopped', 'failed', 'disabled'] as const;

/** Why a service failed: the catalog code, its message and the fix. */
export const ServiceErrorSchema = Type.Object({ code: Type.String(), message: Type.String(), fix: Type.String() });

/** One service (admin, http-node, dhcp, ipv6-ra, tftp, lab) and its state. */
export const ServiceStatusSchema = Type.Object({
  name: Type.String(),
  state: Type.Enum(SERVICE_STATES),
  detail: Type.String(),
  error: Type.Optional(ServiceErrorSchema),
  /** DHCP only: the warm start after start (server/dhcp/warm-start.ts); a benchmark waits for `done` before offering load. */
  warmStart: Type.Optional(
    Type.Object({
      state: Type.Union([Type.Literal('off'), Type.Literal('running'), Type.Literal('done')]),
      exchanges: Type.Integer(),
      replies: Type.Integer(),
      ms: Type.Number(),
      cpuMs: Type.Number(),
      /** The full collection that ends it, ms (0 until then). */
      collectMs: Type.Number(),
    }),
  ),
});
/** One service's state. */
export type ServiceStatus = Static<typeof ServiceStatusSchema>;

/** GET /api/v1/status: services, the network config in force, node counts. */
export const ApplianceStatusSchema = Type.Object({
  services: Type.Array(ServiceStatusSchema),
  config: Type.Object({
    iface: Type.Union([Type.String(), Type.Null()]),
    /** `ip/prefix` on the provisioning NIC. */
    address: Type.Union([Type.String(), Type.Null()]),
    dhcp: Type.Union([Type.Literal('full'), Type.Literal('proxy'), Type.Literal('off')]),
    /** `start-end` of the full-mode pool. */
    range: Type.Union([Type.String(), Type.Null()]),
    publicUrl: Type.String(),
    /** `sim:N` while the simulated rack runs. */
    lab: Type.Union([Type.String(), Type.Null()]),
  }),
  counts: Type.Object({ nodes: Type.Integer(), by_state: Type.Record(Type.String(), Type.Integer()) }),
});
/** The appliance status. */
export type ApplianceStatus = Static<typeof ApplianceStatusSchema>;

/** One NIC of this machine as the Setup screen shows it. */
export const InterfaceInfoSchema = Type.Object({
  name: Type.String(),
  /** Null for NICs without a hardware address (tunnels). */
  mac: Type.Union([Type.String(), Type.Null()]),
  up: Type.Boolean(),
  /** `ip/prefix`, IPv4 and IPv6. */
  addresses: Type.Array(Type.String()),
  speed_mbps: Type.Union([Type.Number(), Type.Null()]),
  wireless: Type.Boolean(),
  default_route: Type.Boolean(),
  ifindex: Type.Union([Type.Integer(), Type.Null()]),
});
/** One NIC. */
export type InterfaceInfo = Static<typeof InterfaceInfoSchema>;

/** GET /api/v1/interfaces */
export const InterfaceListSchema = Type.Object({ interfaces: Type.Array(InterfaceInfoSchema) });
/** The NIC list. */
export type InterfaceList = Static<typeof InterfaceListSchema>;

/** A NIC name as Linux allows it (IFNAMSIZ 16 with the NUL). */
export const IfaceNameSchema = Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,15}$' });

/** POST /api/v1/setup/probe */
export const ProbeRequestSchema = Type.Object({ iface: IfaceNameSchema }, { additionalProperties: false });
/** Probe request. */
export type ProbeRequest = Static<typeof ProbeRequestSchema>;

/** Which of the probe's two DISCOVERs (plain, PXE) a reply answered. */
export const PROBE_KINDS = ['dhcp', 'pxe'] as const;

/** One other DHCP server that answered on the link (its strings cleaned and capped by the server). */
export const ForeignServerSchema = Type.Object({
  /** Option 54 of its reply when readable, else the source address. */
  serverId: Type.String(),
  /** Source address of the reply. */
  from: Type.String(),
  /** The address it offered (yiaddr), or null. */
  offered: Type.Union([Type.String(), Type.Null()]),
  answered: Type.Array(Type.Enum(PROBE_KINDS)),
  /** `dhcp`: hands out addresses; `proxy`: answered without an address (proxyDHCP / PXE-only boot server). */
  kind: Type.Union([Type.Literal('dhcp'), Type.Literal('proxy')]),
  /** Its answer to the PXE DISCOVER carried boot information: it boots PXE clients. */
  pxe: Type.Boolean(),
  /** Boot file it named, or null. */
  bootFile: Type.Union([Type.String(), Type.Null()]),
  /** Why its reply could not be fully decoded (a hostile or broken server), or null. */
  malformed: Type.Union([Type.String(), Type.Null()]),
});
/** One foreign DHCP server. */
export type ForeignServer = Static<typeof ForeignServerSchema>;

/** Answer of POST /api/v1/setup/probe. */
export const ProbeResultSchema = Type.Object({
  servers: Type.Array(ForeignServerSchema),
  /** Distinct servers beyond the cap that were not kept (a hostile server inventing identities). */
  overflow: Type.Integer(),
});
/** What one probe heard. */
export type ProbeResult = Static<typeof ProbeResultSchema>;

/** POST /api/v1/setup/apply: the network group of the config, patched through the start-up validation. */
export const SetupApplySchema = Type.Object(
  {
    iface: IfaceNameSchema,
    address: Type.Optional(Type.String({ maxLength: 18 })),
    dhcp: Type.Union([Type.Literal('full'), Type.Literal('proxy'), Type.Literal('off')]),
    range: Type.Optional(Type.String({ maxLength: 31 })),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Setup apply request. */
export type SetupApply = Static<typeof SetupApplySchema>;

/** GET /api/v1/health (open: the UI reads it before signing in). */
export const HealthSchema = Type.Object({ ok: Type.Boolean(), version: Type.String() });
/** Health answer. */
export type Health = Static<typeof HealthSchema>;
