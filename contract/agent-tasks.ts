/**
 * Tasks the microkernel agent carries out on the machine itself (issue 13): `image-deploy` (write a disk
 * image to the root disk), `erase` (every disk) and `burn-in` (stress CPU, memory and disks). The
 * appliance hands the agent a job in a check-in answer (`command: 'run-task'`); the agent reports
 * progress and the outcome with its agent token (docs/deploy.md). Shared by server, agent and renderer.
 */
import { Type, type Static } from 'typebox';
import { BootFirmwareSchema, FirstBootSchema } from './disk-image.ts';

/** Built-in tasks that run inside the microkernel rather than as an iPXE boot. */
export const MICROKERNEL_TASKS = ['image-deploy', 'erase', 'burn-in'] as const;
/** One microkernel task. */
export type MicrokernelTask = (typeof MICROKERNEL_TASKS)[number];

/** True when `task` is carried out by the agent in the microkernel. */
export function isMicrokernelTask(task: string | null | undefined): task is MicrokernelTask {
  return (MICROKERNEL_TASKS as readonly string[]).includes(task ?? '');
}

/**
 * Ironic-style root device hints (policy metadata `root_device`). Strings match whole values, case and
 * surrounding blanks ignored; `<in> TEXT` matches a substring. `size` is GiB (an integer, or `>= 100`,
 * `<= 500`, `> N`, `< N`, `== N`). `path` (Ironic's `name`) is `/dev/sdb` or `sdb`. `serial`, `wwn` and `hctl`
 * are compared with what the node's facts show (`0x...` WWNs; the kernel's `naa.` spelling matches too; `wwn` is
 * a 16-byte NAA's first half or the whole, `wwn_with_extension` the whole, `wwn_vendor_extension` the second half;
 * `hctl` a SCSI address such as `0:0:0:0`, exactly: docs/deploy.md).
 */
export const RootDeviceHintsSchema = Type.Object(
  {
    size: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\s*(>=|<=|==|>|<)?\\s*\\d{1,7}\\s*$' })])),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    vendor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    wwn: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    wwn_with_extension: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    wwn_vendor_extension: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    hctl: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    rotational: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Root device hints. */
export type RootDeviceHints = Static<typeof RootDeviceHintsSchema>;

/** The task tools overlay (`/mk/tools.img`): a cpio archive, brotli-compressed, unpacked into tmpfs when a task starts. */
export const ToolsRefSchema = Type.Object({
  url: Type.String({ maxLength: 1024 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  size: Type.Integer({ minimum: 1 }),
});
/** Where the tools overlay is. */
export type ToolsRef = Static<typeof ToolsRefSchema>;

/** The image an `image-deploy` job writes (from the image record, contract/disk-image.ts). */
export const DeployImageSchema = Type.Object({
  name: Type.String({ maxLength: 64 }),
  /** `/images/NAME/disk.raw.zst` on the node plane; served with Range. */
  url: Type.String({ maxLength: 1024 }),
  compression: Type.Literal('zstd'),
  stored_size: Type.Integer({ minimum: 1 }),
  stored_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** Uncompressed: the smallest disk it fits, and the checksum of what must end up on the disk. */
  size: Type.Integer({ minimum: 512 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  partition_table: Type.Union([Type.Literal('gpt'), Type.Literal('mbr')]),
  /** The partition holding the OS (where the NoCloud seed goes), with its byte offset on the disk. */
  root_partition: Type.Union([
    Type.Object({
      number: Type.Integer({ minimum: 1 }),
      start: Type.Integer({ minimum: 0 }),
      size: Type.Integer({ minimum: 1 }),
      filesystem: Type.String({ maxLength: 16 }),
    }),
    Type.Null(),
  ]),
  firmware: BootFirmwareSchema,
  first_boot: FirstBootSchema,
});
/** The image of a deploy job. */
export type DeployImage = Static<typeof DeployImageSchema>;

/** cloud-init NoCloud seed files, rendered by the appliance (operator data and whitelisted node data only). */
export const SeedSchema = Type.Object({
  meta_data: Type.String({ maxLength: 65536 }),
  user_data: Type.String({ maxLength: 262144 }),
  network_config: Type.String({ maxLength: 65536 }),
});
/** A NoCloud seed. */
export type Seed = Static<typeof SeedSchema>;

const JobId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });

/** Write a disk image to the root disk, verify it, seed it; the agent reboots when the appliance says so. */
export const DeployJobSchema = Type.Object({
  kind: Type.Literal('image-deploy'),
  job_id: JobId,
  image: DeployImageSchema,
  root_device: Type.Union([RootDeviceHintsSchema, Type.Null()]),
  /** Null when the image has no first-boot support (`first_boot: none`). */
  seed: Type.Union([SeedSchema, Type.Null()]),
  tools: ToolsRefSchema,
});
/** A deploy job. */
export type DeployJob = Static<typeof DeployJobSchema>;

/** Erase every disk of the machine (the operator confirmed with the node count). */
export const EraseJobSchema = Type.Object({
  kind: Type.Literal('erase'),
  job_id: JobId,
  tools: ToolsRefSchema,
  /** Skip secure erase / NVMe format / discard and always overwrite with zeros. */
  overwrite_only: Type.Boolean(),
});
/** An erase job. */
export type EraseJob = Static<typeof EraseJobSchema>;

/** Stress CPU and memory and read the disks for a set time. */
export const BurnInJobSchema = Type.Object({
  kind: Type.Literal('burn-in'),
  job_id: JobId,
  tools: ToolsRefSchema,
  duration_s: Type.Integer({ minimum: 10, maximum: 7 * 86400 }),
  /** Share of the free memory the memory stressor takes. */
  memory_percent: Type.Integer({ minimum: 1, maximum: 95 }),
  /** Seconds each disk is read (within duration_s, after the CPU and memory phase). */
  disk_read_s: Type.Integer({ minimum: 0, maximum: 86400 }),
});
/** A burn-in job. */
export type BurnInJob = Static<typeof BurnInJobSchema>;

/** Any job a check-in answer may carry. */
export const AgentJobSchema = Type.Union([DeployJobSchema, EraseJobSchema, BurnInJobSchema]);
/** A job. */
export type AgentJob = Static<typeof AgentJobSchema>;

/** Where a running task is, batched by the agent (one report every few seconds, never one per chunk). */
export const TaskProgressSchema = Type.Object({
  phase: Type.String({ maxLength: 64 }),
  bytes_done: Type.Number({ minimum: 0 }),
  bytes_total: Type.Number({ minimum: 0 }),
  percent: Type.Number({ minimum: 0, maximum: 100 }),
  /** Throughput of the phase, megabytes (10^6) per second. */
  mbps: Type.Number({ minimum: 0 }),
  eta_s: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** Downloads resumed with a Range request after a dropped connection. */
  resumes: Type.Optional(Type.Integer({ minimum: 0 })),
  /** e.g. the disk being written or erased. */
  detail: Type.Optional(Type.String({ maxLength: 256 })),
});
/** Task progress. */
export type TaskProgress = Static<typeof TaskProgressSchema>;

/** Why a task failed: what the UI shows and the fix it names (server/deploy/failures.ts). */
export const TASK_FAILURES = [
  'no-fitting-disk',
  'checksum-mismatch',
  'download-failed',
  'write-error',
  'seed-failed',
  'tools-failed',
  'erase-failed',
  'burn-in-failed',
  'no-callback',
  'internal',
] as const;
/** One failure code. */
export type TaskFailureCode = (typeof TASK_FAILURES)[number];

/** A failure: the code and the agent's message (node text: shown, never written into a script). */
export const TaskFailureSchema = Type.Object({
  code: Type.Enum(TASK_FAILURES),
  message: Type.String({ maxLength: 2048 }),
});
/** A task failure. */
export type TaskFailure = Static<typeof TaskFailureSchema>;

/** The disk a deploy wrote. */
export const DeployResultSchema = Type.Object({
  kind: Type.Literal('image-deploy'),
  disk: Type.Object({
    name: Type.String({ maxLength: 64 }),
    size: Type.Number(),
    model: Type.Optional(Type.String({ maxLength: 256 })),
    serial: Type.Optional(Type.String({ maxLength: 256 })),
    /** Why this disk (the hint that matched, or "smallest disk of at least N bytes"). */
    reason: Type.String({ maxLength: 512 }),
  }),
  written_bytes: Type.Number(),
  write_seconds: Type.Number(),
  write_mbps: Type.Number(),
  verify_seconds: Type.Number(),
  resumes: Type.Integer({ minimum: 0 }),
  seeded: Type.Boolean(),
});
/** Deploy result. */
export type DeployResult = Static<typeof DeployResultSchema>;

/** Erase methods, strongest first (docs/deploy.md "Erase"). */
export const ERASE_METHODS = ['nvme-format', 'ata-secure-erase', 'blkdiscard', 'overwrite'] as const;
/** One erase method. */
export type EraseMethod = (typeof ERASE_METHODS)[number];

/** What erase did to one disk. */
export const EraseDiskSchema = Type.Object({
  name: Type.String({ maxLength: 64 }),
  size: Type.Number(),
  model: Type.Optional(Type.String({ maxLength: 256 })),
  serial: Type.Optional(Type.String({ maxLength: 256 })),
  method: Type.Union([Type.Enum(ERASE_METHODS), Type.Null()]),
  ok: Type.Boolean(),
  seconds: Type.Number(),
  /** Why a stronger method was not used, or what failed. */
  note: Type.String({ maxLength: 1024 }),
});
/** One erased disk. */
export type EraseDisk = Static<typeof EraseDiskSchema>;

/** Erase result: one row per disk. */
export const EraseResultSchema = Type.Object({ kind: Type.Literal('erase'), disks: Type.Array(EraseDiskSchema, { maxItems: 1024 }) });
/** Erase result. */
export type EraseResult = Static<typeof EraseResultSchema>;

/** Burn-in result; `facts` are merged into the node's facts (`burnin_*`), so tag rules can use them. */
export const BurnInResultSchema = Type.Object({
  kind: Type.Literal('burn-in'),
  passed: Type.Boolean(),
  seconds: Type.Number(),
  cpu: Type.Object({ workers: Type.Integer(), bogo_ops: Type.Number(), failures: Type.Integer() }),
  memory: Type.Object({ bytes: Type.Number(), bogo_ops: Type.Number(), failures: Type.Integer() }),
  disks: Type.Array(
    Type.Object({ name: Type.String({ maxLength: 64 }), read_bytes: Type.Number(), read_mbps: Type.Number(), errors: Type.Integer() }),
    { maxItems: 1024 },
  ),
  facts: Type.Record(
    Type.String({ pattern: '^burnin_[a-z0-9_]{1,64}$' }),
    Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean()]),
  ),
});
/** Burn-in result. */
export type BurnInResult = Static<typeof BurnInResultSchema>;

/** Any task result. */
export const TaskResultSchema = Type.Union([DeployResultSchema, EraseResultSchema, BurnInResultSchema]);
/** A task result. */
export type TaskResult = Static<typeof TaskResultSchema>;

/** POST /api/v1/agent/task (node plane, agent token): progress, then the outcome. */
export const TaskReportSchema = Type.Object(
  {
    node_id: Type.Integer({ minimum: 1 }),
    agent_token: Type.String({ minLength: 8, maxLength: 256 }),
    job_id: JobId,
    status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
    progress: Type.Optional(TaskProgressSchema),
    failure: Type.Optional(TaskFailureSchema),
    result: Type.Optional(TaskResultSchema),
  },
  { additionalProperties: false },
);
/** A task report. */
export type TaskReport = Static<typeof TaskReportSchema>;

/**
 * Answer to a task report: `continue`; `stop` (the job is no longer wanted: unbound, rebound, superseded);
 * `reboot` (a deploy is recorded as written: restart into the installed OS).
 */
export const TaskReportAnswerSchema = Type.Object({
  command: Type.Union([Type.Literal('continue'), Type.Literal('stop'), Type.Literal('reboot')]),
});
/** Task report answer. */
export type TaskReportAnswer = Static<typeof TaskReportAnswerSchema>;

/** POST /api/v1/agent/wait: hold until the appliance has something for this agent, or `timeout_s`. */
export const AgentWaitSchema = Type.Object(
  {
    node_id: Type.Integer({ minimum: 1 }),
    agent_token: Type.String({ minLength: 8, maxLength: 256 }),
    timeout_s: Type.Integer({ minimum: 1, maximum: 55 }),
  },
  { additionalProperties: false },
);
/** Command poll request. */
export type AgentWait = Static<typeof AgentWaitSchema>;

/** Answer of the command poll: check in now (`pending`), or keep waiting. */
export const AgentWaitAnswerSchema = Type.Object({ pending: Type.Boolean() });
/** Command poll answer. */
export type AgentWaitAnswer = Static<typeof AgentWaitAnswerSchema>;

/** States of a node's task as the appliance records it. */
export const NODE_TASK_STATUSES = ['running', 'written', 'succeeded', 'failed'] as const;

/** The node's current (or last) microkernel task, as the admin API and the UI see it. */
export const NodeTaskSchema = Type.Object({
  task: Type.Enum(MICROKERNEL_TASKS),
  job_id: Type.String(),
  /** running: the agent works; written: a deploy is on the disk, waiting for the installed OS to call back. */
  status: Type.Enum(NODE_TASK_STATUSES),
  progress: Type.Union([TaskProgressSchema, Type.Null()]),
  started_at: Type.String(),
  updated_at: Type.String(),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  failure: Type.Union([Type.Object({ code: Type.Enum(TASK_FAILURES), message: Type.String(), fix: Type.String() }), Type.Null()]),
  result: Type.Union([TaskResultSchema, Type.Null()]),
});
/** A node's task. */
export type NodeTask = Static<typeof NodeTaskSchema>;
