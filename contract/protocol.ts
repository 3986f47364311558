/**
 * The agent <-> appliance check-in protocol (Razor/Hanlon lineage), versioned.
 * Imported by the server (to validate) and by the agent (to build requests).
 */
import { Type, type Static } from 'typebox';
import { FactsSchema, InventorySchema } from './node.ts';
import { AgentJobSchema } from './agent-tasks.ts';

/** Protocol version; the path segment `/api/v1` carries the major. */
export const PROTOCOL_VERSION = 1;

/**
 * Node-facing HTTP port when the operator names none: unprivileged, so iPXE can fetch without root; "8026" spells
 * nothing, it is just free. Here because the agent falls back to it when the kernel command line names no port.
 */
export const DEFAULT_HTTP_PORT = 8026;

/** Largest register body the appliance accepts (facts + inventory). */
export const MAX_REGISTER_BYTES = 2 * 1024 * 1024;

const Mac = Type.String({ pattern: '^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){5}$' });

/** A version label: what boot scripts may carry (server/boot/boot-text.ts whitelist) plus `+`. */
export const VersionLabelSchema = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:+-]+$' });

/** Configuration the appliance pushes to agents with every answer. */
export const AgentConfigSchema = Type.Object({
  checkin_interval_s: Type.Integer({ minimum: 1, maximum: 86400 }),
  checkin_skew_s: Type.Integer({ minimum: 0, maximum: 3600 }),
  facts_exclude_pattern: Type.String({ maxLength: 1024 }),
  server_url: Type.String({ maxLength: 1024 }),
  log_level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
});
/** Agent configuration. */
export type AgentConfig = Static<typeof AgentConfigSchema>;

/** POST /api/v1/register */
export const RegisterRequestSchema = Type.Object(
  {
    protocol: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Stable hardware id the agent derives (sorted MACs hash); informative. */
    hw_id: Type.String({ minLength: 1, maxLength: 256 }),
    /** Node id from the kernel command line, when the agent has one. */
    node_id: Type.Optional(Type.Integer({ minimum: 1 })),
    macs: Type.Array(Mac, { minItems: 1, maxItems: 256 }),
    uuid: Type.Optional(Type.String({ maxLength: 64 })),
    serial: Type.Optional(Type.String({ maxLength: 256 })),
    /** One-time enrolment token from the boot script, or the node's agent token. */
    token: Type.String({ minLength: 8, maxLength: 256 }),
    facts: FactsSchema,
    inventory: Type.Optional(InventorySchema),
    /** The agent's own version (package version + build digest). */
    agent_version: Type.Optional(VersionLabelSchema),
    /** The microkernel image this agent runs in, as the boot script named it (`crashcart.mk=`). */
    microkernel_version: Type.Optional(VersionLabelSchema),
    /**
     * false: the fast facts only (identity, CPU, memory, disks, NICs), sent within a second of the agent's start
     * so the node shows at once; the slow ones (lshw, BMC, LLDP) follow in a second register with true. Absent
     * means complete (agents before register-first). No rule binds a node on incomplete facts (docs/identity.md).
     */
    facts_complete: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Register request. */
export type RegisterRequest = Static<typeof RegisterRequestSchema>;

/** Answer to a register. */
export const RegisterResponseSchema = Type.Object({
  node_id: Type.Integer(),
  agent_token: Type.String(),
  config: AgentConfigSchema,
});
/** Register response. */
export type RegisterResponse = Static<typeof RegisterResponseSchema>;

/**
 * A pushed config the agent refused: a `server_url` on another origin than the URL it booted with
 * (docs/agent.md "Trust"). Sent once per refused URL, in the next check-in; the appliance records a
 * `node.config_refused` event.
 */
export const ConfigRefusedSchema = Type.Object(
  {
    server_url: Type.String({ maxLength: 1024 }),
    /** Refusals since the agent started (every answer that carried a foreign URL). */
    count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
/** A refused pushed config. */
export type ConfigRefused = Static<typeof ConfigRefusedSchema>;

/** POST /api/v1/checkin */
export const CheckinRequestSchema = Type.Object(
  {
    protocol: Type.Optional(Type.Integer({ minimum: 1 })),
    node_id: Type.Integer({ minimum: 1 }),
    agent_token: Type.String({ minLength: 8, maxLength: 256 }),
    state: Type.String({ maxLength: 64 }),
    facts_hash: Type.String({ maxLength: 128 }),
    first_checkin: Type.Boolean(),
    config_refused: Type.Optional(ConfigRefusedSchema),
  },
  { additionalProperties: false },
);
/** Check-in request. */
export type CheckinRequest = Static<typeof CheckinRequestSchema>;

/** Commands the appliance may give (`run-task`: carry out the answer's `job`, contract/agent-tasks.ts). */
export const AGENT_COMMANDS = ['acknowledge', 'register', 'reboot', 'poweroff', 'run-task'] as const;
/** One command. */
export type AgentCommand = (typeof AGENT_COMMANDS)[number];

/** Answer to a check-in. */
export const CheckinResponseSchema = Type.Object({
  command: Type.Enum(AGENT_COMMANDS),
  config: AgentConfigSchema,
  /** Enrol this machine's BMC in-band now and report to /api/v1/bmc-enrol (contract/bmc-enrol.ts). */
  bmc_enrol: Type.Optional(Type.Boolean()),
  /** With `run-task`: what to do (image-deploy, erase, burn-in). */
  job: Type.Optional(AgentJobSchema),
});
/** Check-in response. */
export type CheckinResponse = Static<typeof CheckinResponseSchema>;

/** Answer of an installer's stage callback (GET /api/v1/nodes/:id/stage): the node's state after it. */
export const StageAnswerSchema = Type.Object({ ok: Type.Boolean(), state: Type.String() });
/** Stage callback answer. */
export type StageAnswer = Static<typeof StageAnswerSchema>;

/** Error body every 4xx/5xx carries (admin and node planes). */
export const ErrorBodySchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  fix: Type.Optional(Type.String()),
});
/** Error body. */
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** Kernel command-line keys the boot script writes and the agent reads. */
export const KERNEL_ARGS = { url: 'crashcart.url', node: 'crashcart.node', token: 'crashcart.token', microkernel: 'crashcart.mk' } as const;
