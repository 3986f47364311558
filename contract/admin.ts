/** Admin API bodies, shared by server (validation, OpenAPI) and renderer (types). */
import { Type, type Static } from 'typebox';
import { BootChainSettingSchema, EfiLoaderSchema } from './node.ts';
import { DiskImageInfoSchema } from './disk-image.ts';
import { IsoRepoSchema } from './iso-repo.ts';

/** Tag and policy names: short, URL-safe. */
export const NameSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' });

/** A tag rule: a JSON prefix expression, checked by the server's rule validator. */
export const RuleSchema = Type.Array(Type.Unknown(), { minItems: 1 });

/** PUT/POST body of a tag. */
export const TagInputSchema = Type.Object(
  {
    name: NameSchema,
    rule: RuleSchema,
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    /** Boot settings for the tag's nodes (node > tag > appliance); null or absent: not set by this tag. */
    boot_chain: Type.Optional(Type.Union([BootChainSettingSchema, Type.Null()])),
    efi_loader: Type.Optional(Type.Union([EfiLoaderSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
/** Tag input. */
export type TagInput = Static<typeof TagInputSchema>;

/** A stored tag with its match count. */
export const TagSchema = Type.Object({
  name: Type.String(),
  rule: RuleSchema,
  description: Type.String(),
  boot_chain: Type.Union([BootChainSettingSchema, Type.Null()]),
  efi_loader: Type.Union([EfiLoaderSchema, Type.Null()]),
  node_count: Type.Integer(),
});
/** A tag. */
export type Tag = Static<typeof TagSchema>;

/** Body of a policy create/update. */
export const PolicyInputSchema = Type.Object(
  {
    name: NameSchema,
    enabled: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Type.Array(NameSchema, { maxItems: 64 })),
    max_count: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    task: NameSchema,
    image: Type.Optional(Type.Union([NameSchema, Type.Null()])),
    hostname_template: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    /** Write-only: hashed on the server (sha512-crypt, random salt) and never stored or returned as given. */
    root_password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    /** A ready crypt(3) hash (`$6$`, `$5$`, `$y$`, `$2b$`); null removes the password. Write-only too. */
    root_password_hash: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    /** OpenSSH public keys, one per item (contract/ssh-key.ts checks them). */
    ssh_keys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 64 })),
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())),
    /** Save even though the task installs an OS nobody could log in to (no key, no password): else 409. */
    confirm_unreachable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Policy input. */
export type PolicyInput = Static<typeof PolicyInputSchema>;

/** A stored policy. */
export const PolicySchema = Type.Object({
  name: Type.String(),
  priority: Type.Integer(),
  enabled: Type.Boolean(),
  tags: Type.Array(Type.String()),
  max_count: Type.Union([Type.Integer(), Type.Null()]),
  task: Type.String(),
  image: Type.Union([Type.String(), Type.Null()]),
  hostname_template: Type.String(),
  /** A root password is set (the hash itself is never returned). */
  root_password_set: Type.Boolean(),
  ssh_keys: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  bound_count: Type.Integer(),
  /** The task installs an OS someone logs in to, and this policy gives it neither a key nor a password. */
  unreachable: Type.Boolean(),
});
/** A policy. */
export type Policy = Static<typeof PolicySchema>;

/** POST /api/v1/nodes/bind */
export const BindRequestSchema = Type.Object(
  {
    node_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100000 }),
    policy: NameSchema,
    /** For a policy whose task erases disks: the number of nodes, typed by the operator (docs/deploy.md "Erase"). */
    confirm_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  },
  { additionalProperties: false },
);
/** Bind request. */
export type BindRequest = Static<typeof BindRequestSchema>;

/** POST /api/v1/nodes/unbind, /reinstall, /reboot, /forget, /approve */
export const NodeSelectionSchema = Type.Object(
  { node_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100000 }) },
  { additionalProperties: false },
);
/** Node selection. */
export type NodeSelection = Static<typeof NodeSelectionSchema>;

/** POST /api/v1/nodes/merge: the operator says both records are one machine; `from` is folded into `into`. */
export const MergeRequestSchema = Type.Object(
  { into: Type.Integer({ minimum: 1 }), from: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
/** Merge request. */
export type MergeRequest = Static<typeof MergeRequestSchema>;

/** POST /api/v1/nodes/:id/conflicts/dismiss: keep this node apart from `node_id` (all its conflicts with it). */
export const ConflictDismissSchema = Type.Object({ node_id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
/** Conflict dismissal. */
export type ConflictDismiss = Static<typeof ConflictDismissSchema>;

/** Per-node outcome of a bulk action. */
export const BulkResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({
      node_id: Type.Integer(),
      ok: Type.Boolean(),
      state: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
      /** The catalog code of a refusal that has one (e.g. CC_ERR_POLICY_FULL); docs/errors.md says the fix. */
      code: Type.Optional(Type.String()),
      /** What did not stop the action (e.g. a BMC power cycle that failed after a reinstall was queued). */
      warnings: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});
/** Bulk result. */
export type BulkResult = Static<typeof BulkResultSchema>;

/** Kinds of task field: how the policy form renders it and how the server validates it. */
export const TASK_FIELD_KINDS = ['text', 'url', 'script'] as const;

/**
 * A policy setting a task needs, stored in the policy's metadata under `key` (templates read it as
 * `policy.metadata.KEY`): the policy form renders one input per field and the server validates on save.
 */
export const TaskFieldSchema = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }),
    label: Type.String({ minLength: 1, maxLength: 80 }),
    kind: Type.Enum(TASK_FIELD_KINDS),
    required: Type.Boolean(),
    help: Type.Optional(Type.String({ maxLength: 400 })),
    placeholder: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
/** A task field. */
export type TaskField = Static<typeof TaskFieldSchema>;

/** Body of a task (boot profile) create/update. */
export const TaskInputSchema = Type.Object(
  {
    name: NameSchema,
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    ipxe: Type.String({ minLength: 1, maxLength: 65536 }),
    templates: Type.Optional(Type.Record(NameSchema, Type.String({ maxLength: 262144 }))),
    /** Policy settings the task needs (rendered as a form, validated on policy save). */
    fields: Type.Optional(Type.Array(TaskFieldSchema, { maxItems: 32 })),
    /** The task installs an OS someone logs in to with the policy's root password or SSH keys. */
    login: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Task input. */
export type TaskInput = Static<typeof TaskInputSchema>;

/** A task (boot profile). */
export const TaskSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  builtin: Type.Boolean(),
  ipxe: Type.String(),
  templates: Type.Record(Type.String(), Type.String()),
  /** `microkernel`: the agent carries the task out on the running machine (image-deploy, erase, burn-in). */
  runs_in: Type.Optional(Type.Union([Type.Literal('ipxe'), Type.Literal('microkernel')])),
  fields: Type.Array(TaskFieldSchema),
  login: Type.Boolean(),
});
/** A task. */
export type Task = Static<typeof TaskSchema>;

/** Body of the dry-run ("which nodes would match, and why not"). */
export const DryRunRequestSchema = Type.Object(
  {
    rule: Type.Optional(RuleSchema),
    tags: Type.Optional(Type.Array(NameSchema)),
    policy: Type.Optional(NameSchema),
    node_id: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
/** Dry-run request. */
export type DryRunRequest = Static<typeof DryRunRequestSchema>;

/** An IPv4 subnet in CIDR notation (`10.20.0.0/24`); host bits are ignored. */
export const CidrSchema = Type.String({
  pattern: '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])$',
});

/** Settings an operator may change at run time (pushed to agents). */
export const SettingsSchema = Type.Object(
  {
    checkin_interval_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    checkin_skew_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    facts_exclude_pattern: Type.Optional(Type.String({ maxLength: 1024 })),
    log_level: Type.Optional(Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])),
    lost_after_intervals: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
    reregister_after_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 31536000 })),
    default_efi_loader: Type.Optional(Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi')])),
    /** UEFI chain of nodes whose node and tags set none: ipxe, shim (signed, Secure Boot) or auto (docs/boot.md). */
    boot_chain: Type.Optional(BootChainSettingSchema),
    /** New nodes wait for the operator's approval before any automatic action (docs/identity.md 3). */
    approval_required: Type.Optional(Type.Boolean()),
    /** A deployed OS that has not called back this long after its disk was written is a failed deploy. */
    deploy_callback_timeout_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 604800 })),
    /** Lifetime of the enrolment token a microkernel boot carries. */
    enrol_token_ttl_s: Type.Optional(Type.Integer({ minimum: 60, maximum: 604800 })),
    /** Lifetime of an install's token (answer files, stage callbacks). */
    install_token_ttl_s: Type.Optional(Type.Integer({ minimum: 300, maximum: 2592000 })),
    // Node-plane limits (docs/security.md): 0 lifts a limit (benchmarks do, explicitly).
    /** New records one source address may create per minute through /boot. */
    node_create_per_source_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** New records DHCP sightings and TFTP requests for GRUB node configs may create per minute (one shared bucket: a datagram has no trustworthy source). */
    node_create_dhcp_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** Records that never registered, beyond which no new one is created. */
    unregistered_nodes_max: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000000 })),
    /** node.discovered events per minute; past it one summary event per minute. */
    discovered_events_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** Unauthenticated node-plane events (boot requests, transfers) per source address per minute. */
    node_events_per_source_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** The same events from all sources together per minute, in each of two budgets: known nodes', everyone else's. */
    node_events_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** Per-packet DHCP events recorded per minute, in each of two budgets: packets of known nodes, and everyone else's. */
    dhcp_events_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** TFTP transfer events (start, finish, error) recorded per minute, in each of two budgets: known nodes', everyone else's. */
    tftp_events_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    /** Register bodies (facts) one source address may send per minute, in bytes. */
    facts_bytes_per_source_per_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 1099511627776 })),
    /** HTTP (both planes): time to receive a request's headers. */
    http_headers_timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** HTTP (both planes): time to receive a whole request, body included (not the answer). */
    http_request_timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    /** HTTP (both planes): how long an idle keep-alive connection stays open. */
    http_keepalive_timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    // BMC power and boot control (docs/bmc.md).
    /** BMCs handled at once by a bulk power action. */
    bmc_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    /** Seconds between two machines starting in a bulk power-on (0 = no stagger). */
    power_stagger_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
    /** How long `off` lets the OS shut down before forcing it off. */
    soft_off_timeout_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    /** One BMC request (an ipmitool run, a Redfish exchange). */
    bmc_request_timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    /** Seconds between two power-state polls of BMC-enrolled nodes (0 = no polling). */
    power_poll_interval_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    /** In-band BMC enrolment by the microkernel: auto = on in full-DHCP mode, off in proxy mode. */
    bmc_enrol_inband: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')])),
    /** Subnets a BMC address reported in-band may be in (CIDR); null = the rack subnets Crashcart serves. */
    bmc_allowed_subnets: Type.Optional(Type.Union([Type.Array(CidrSchema, { maxItems: 256 }), Type.Null()])),
  },
  { additionalProperties: false },
);
/** Settings patch. */
export type SettingsPatch = Static<typeof SettingsSchema>;

/** Image as listed: an OS installer (kernel + initrd, ISO) or a whole-disk image (`disk`, contract/disk-image.ts). */
export const ImageSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('kernel-initrd'), Type.Literal('iso'), Type.Literal('disk')]),
  files: Type.Array(Type.Object({ name: Type.String(), size: Type.Number(), sha256: Type.String() })),
  created_at: Type.String(),
  disk: Type.Optional(DiskImageInfoSchema),
  /** The package repository unpacked from an installer ISO (contract/iso-repo.ts). */
  repo: Type.Optional(IsoRepoSchema),
});
/** An image. */
export type Image = Static<typeof ImageSchema>;

/** Path of the routes that name a tag, policy, task or image. */
export const NameParamsSchema = Type.Object({ name: NameSchema });

/** GET /api/v1/tags */
export const TagListSchema = Type.Object({ tags: Type.Array(TagSchema) });
/** The tag list. */
export type TagList = Static<typeof TagListSchema>;

/** GET /api/v1/policies (priority order); also the answer of a reorder. */
export const PolicyListSchema = Type.Object({ policies: Type.Array(PolicySchema) });
/** The policy list. */
export type PolicyList = Static<typeof PolicyListSchema>;

/** POST /api/v1/policies/order: every policy name, highest priority first. */
export const PolicyOrderSchema = Type.Object({ names: Type.Array(NameSchema, { maxItems: 1000 }) }, { additionalProperties: false });
/** Policy order request. */
export type PolicyOrder = Static<typeof PolicyOrderSchema>;

/** POST /api/v1/policies/:name/move: one step up or down. */
export const PolicyMoveSchema = Type.Object(
  { direction: Type.Union([Type.Literal('up'), Type.Literal('down')]) },
  { additionalProperties: false },
);
/** Policy move request. */
export type PolicyMove = Static<typeof PolicyMoveSchema>;

/** One node in a dry-run answer: would it match, and if not, why not. */
export const DryRunMatchSchema = Type.Object({
  node_id: Type.Integer(),
  hostname: Type.Union([Type.String(), Type.Null()]),
  matched: Type.Boolean(),
  reasons: Type.Array(Type.String()),
});
/** One dry-run row. */
export type DryRunMatch = Static<typeof DryRunMatchSchema>;

/** Answer of POST /api/v1/dry-run. */
export const DryRunResultSchema = Type.Object({ matches: Type.Array(DryRunMatchSchema) });
/** Dry-run answer. */
export type DryRunResult = Static<typeof DryRunResultSchema>;

/** GET /api/v1/tasks */
export const TaskListSchema = Type.Object({ tasks: Type.Array(TaskSchema) });
/** The task list. */
export type TaskList = Static<typeof TaskListSchema>;

/** POST /api/v1/tasks/:name/preview: render the task for a node (with its policy, or this one). */
export const TaskPreviewRequestSchema = Type.Object(
  { node_id: Type.Integer({ minimum: 1 }), policy: Type.Optional(NameSchema) },
  { additionalProperties: false },
);
/** Task preview request. */
export type TaskPreviewRequest = Static<typeof TaskPreviewRequestSchema>;

/** The rendered task: its iPXE script and every answer file. */
export const TaskPreviewSchema = Type.Object({ ipxe: Type.String(), files: Type.Record(Type.String(), Type.String()) });
/** Task preview. */
export type TaskPreview = Static<typeof TaskPreviewSchema>;
