/**
 * The admin API, route by route: for each `METHOD /path` its params, query,
 * body and answer schemas. The server registers every admin route from its
 * entry here (server/http/route-table.ts), so a route's validation and its
 * answer's serialisation cannot differ from this table; the renderer's and
 * the CLI's clients are typed from it (`RouteInput`, `RouteAnswer`).
 *
 * The renderer imports this file with `import type` only: its runtime half
 * (contract/route-request.ts) needs nothing but the key, so TypeBox stays out
 * of the UI bundle. Adding a route: one entry here, one `addRoute` call in a
 * server/http/routes/ file; the client sees it at once.
 */
import { Type, type Static, type TSchema } from 'typebox';
import {
  BindRequestSchema,
  BulkResultSchema,
  ConflictDismissSchema,
  DryRunRequestSchema,
  DryRunResultSchema,
  MergeRequestSchema,
  NameParamsSchema,
  NodeSelectionSchema,
  PolicyInputSchema,
  PolicyListSchema,
  PolicyMoveSchema,
  PolicyOrderSchema,
  PolicySchema,
  SettingsSchema,
  TagInputSchema,
  TagListSchema,
  TagSchema,
  TaskInputSchema,
  TaskListSchema,
  TaskPreviewRequestSchema,
  TaskPreviewSchema,
  TaskSchema,
  ImageSchema,
} from './admin.ts';
import { NodeSchema } from './node.ts';
import { BmcAcceptSchema, BmcInputSchema, ExportNodesQuerySchema, PowerRequestSchema, PowerResultSchema } from './bmc.ts';
import { NodeFromBmcAnswerSchema, NodeFromBmcRequestSchema } from './bmc-expected.ts';
import { DiskImportQuerySchema } from './disk-image.ts';
import {
  EventListSchema,
  EventQuerySchema,
  EventStreamQuerySchema,
  NodeEventsQuerySchema,
  NodeFactsSchema,
  NodeIdParamsSchema,
  NodeListQuerySchema,
  NodeListSchema,
  NodePatchSchema,
} from './node-api.ts';
import {
  ApplianceStatusSchema,
  HealthSchema,
  InterfaceListSchema,
  ProbeRequestSchema,
  ProbeResultSchema,
  SetupApplySchema,
} from './system.ts';
import {
  FileEntrySchema,
  ImageFileParamsSchema,
  ImageListSchema,
  MicrokernelFileSchema,
  MicrokernelInstallSchema,
  MicrokernelInstalledSchema,
  MicrokernelStagingQuerySchema,
} from './images.ts';
import { ReadinessSchema } from './readiness.ts';
import {
  BundleExportQuerySchema,
  BundleImportedSchema,
  LoaderFileParamsSchema,
  LoaderInstalledSchema,
  PreparedSchema,
} from './prepared.ts';
import { EmptySchema, LoginCodeSchema, LoginRequestSchema, OkSchema, RevokeAllSchema } from './session.ts';
import {
  HookDeliveryListSchema,
  HookDeliverySchema,
  HookIdParamsSchema,
  HookInputSchema,
  HookListSchema,
  HookSchema,
  HookUpdateSchema,
} from './hooks.ts';
import { ExportParamsSchema, ExportQuerySchema } from './exports.ts';
import { MetadataKeyParamsSchema, MetadataValueSchema, NodeAddressAnswerSchema, NodeAddressInputSchema } from './node-edit.ts';
import { ManifestPlanSchema, ManifestRequestSchema, ManifestStatusSchema } from './manifest.ts';
import { ReservationInputSchema, ReservationListSchema, ReservationParamsSchema, ReservationSchema } from './reservations.ts';

/** One admin route's contract. */
export interface RouteSpec {
  /** OpenAPI group. */
  readonly tags: readonly string[];
  /** One line for the OpenAPI document. */
  readonly summary?: string;
  readonly params?: TSchema;
  readonly query?: TSchema;
  readonly body?: TSchema;
  /** Success status when not 200 (201 created, 204 nothing to say). */
  readonly status?: 201 | 204;
  /** The JSON answer. Absent: 204, or a route that answers something other than JSON (`produces`). */
  readonly response?: TSchema;
  /** Absent: the bearer token or a session cookie; `open`: no credential; `token`: the bearer token only. */
  readonly auth?: 'open' | 'token';
  /** The route takes a raw upload of this media type instead of a JSON body. */
  readonly rawBody?: 'application/octet-stream';
  /** A non-JSON answer (a stream or a download): clients link to it (`apiUrl`) instead of calling it. */
  readonly produces?: ProducedType | readonly ProducedType[];
}

/** Media types of non-JSON answers. */
export type ProducedType = 'text/event-stream' | 'text/csv' | 'application/json' | 'application/yaml' | 'application/x-tar';

/** HTTP methods the admin plane uses. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const NodeBulk = { tags: ['nodes'], body: NodeSelectionSchema, response: BulkResultSchema } as const;
const MicrokernelParams = Type.Object({ file: MicrokernelFileSchema });

/** Every admin route, keyed `METHOD /path` (Fastify path syntax: `:name` is a parameter). */
export const ADMIN_ROUTES = {
  // System
  'GET /api/v1/health': { tags: ['system'], auth: 'open', response: HealthSchema },
  'GET /api/v1/status': { tags: ['system'], response: ApplianceStatusSchema },
  'GET /api/v1/interfaces': { tags: ['system'], response: InterfaceListSchema },
  'GET /api/v1/openapi.json': {
    tags: ['system'],
    summary: 'This API as an OpenAPI 3.1 document, generated from contract/routes.ts (docs/api.md)',
    produces: 'application/json',
  },
  'POST /api/v1/setup/probe': { tags: ['system'], body: ProbeRequestSchema, response: ProbeResultSchema },
  'POST /api/v1/setup/apply': { tags: ['system'], body: SetupApplySchema, response: ApplianceStatusSchema },
  'POST /api/v1/setup/stop': { tags: ['system'], body: EmptySchema, response: ApplianceStatusSchema },
  'GET /api/v1/readiness': {
    tags: ['system'],
    summary: 'What this appliance needs to serve a rack, each row with its fix (as `crashcart doctor` prints it)',
    response: ReadinessSchema,
  },

  // Sign-in (docs/security.md "Admin credentials")
  'POST /api/v1/session': {
    tags: ['session'],
    summary: 'Sign a browser in with a one-time login code',
    auth: 'open',
    body: LoginRequestSchema,
    response: OkSchema,
  },
  'DELETE /api/v1/session': { tags: ['session'], summary: 'Sign this browser out', status: 204 },
  'POST /api/v1/session/revoke-all': {
    tags: ['session'],
    summary: 'Sign out everywhere: end every session and login code and rotate the admin token',
    body: EmptySchema,
    response: RevokeAllSchema,
  },
  'POST /api/v1/session/login-code': {
    tags: ['session'],
    summary: 'A fresh one-time login link (10 minutes, single use)',
    auth: 'token',
    body: EmptySchema,
    response: LoginCodeSchema,
  },

  // Nodes
  'GET /api/v1/nodes': { tags: ['nodes'], query: NodeListQuerySchema, response: NodeListSchema },
  'GET /api/v1/nodes/:id': { tags: ['nodes'], params: NodeIdParamsSchema, response: NodeSchema },
  'GET /api/v1/nodes/:id/facts': { tags: ['nodes'], params: NodeIdParamsSchema, response: NodeFactsSchema },
  'GET /api/v1/nodes/:id/events': { tags: ['nodes'], params: NodeIdParamsSchema, query: NodeEventsQuerySchema, response: EventListSchema },
  'PATCH /api/v1/nodes/:id': { tags: ['nodes'], params: NodeIdParamsSchema, body: NodePatchSchema, response: NodeSchema },
  'POST /api/v1/nodes/bind': { tags: ['nodes'], body: BindRequestSchema, response: BulkResultSchema },
  'POST /api/v1/nodes/unbind': NodeBulk,
  'POST /api/v1/nodes/reinstall': NodeBulk,
  'POST /api/v1/nodes/reboot': NodeBulk,
  'POST /api/v1/nodes/poweroff': NodeBulk,
  'POST /api/v1/nodes/forget': NodeBulk,
  'POST /api/v1/nodes/approve': NodeBulk,
  // Identity conflicts (docs/identity.md 1): only the operator merges records or keeps them apart.
  'POST /api/v1/nodes/merge': { tags: ['nodes'], body: MergeRequestSchema, response: NodeSchema },
  'POST /api/v1/nodes/:id/conflicts/dismiss': {
    tags: ['nodes'],
    params: NodeIdParamsSchema,
    body: ConflictDismissSchema,
    response: NodeSchema,
  },

  // BMC power and boot control (docs/bmc.md): the password is write-only, never in an answer.
  'PUT /api/v1/nodes/:id/bmc': { tags: ['bmc'], params: NodeIdParamsSchema, body: BmcInputSchema, response: NodeSchema },
  'DELETE /api/v1/nodes/:id/bmc': { tags: ['bmc'], params: NodeIdParamsSchema, response: NodeSchema },
  'POST /api/v1/nodes/:id/bmc/accept': {
    tags: ['bmc'],
    summary: 'Use the credentials in-band enrolment reported, at that address or the one given',
    params: NodeIdParamsSchema,
    body: BmcAcceptSchema,
    response: NodeSchema,
  },
  'POST /api/v1/nodes/power': { tags: ['bmc'], body: PowerRequestSchema, response: PowerResultSchema },
  'POST /api/v1/nodes/from-bmc': {
    tags: ['bmc'],
    summary: 'A machine never seen: read its identifiers from its BMC and keep an expected record carrying the BMC',
    body: NodeFromBmcRequestSchema,
    status: 201,
    response: NodeFromBmcAnswerSchema,
  },
  'POST /api/v1/nodes/:id/bmc/identify': {
    tags: ['bmc'],
    summary: 'An expected record (manifest row) with a BMC set takes the identifiers its BMC gives',
    params: NodeIdParamsSchema,
    body: EmptySchema,
    response: NodeFromBmcAnswerSchema,
  },
  'POST /api/v1/nodes/:id/bmc/enrol': {
    tags: ['bmc'],
    summary: "Ask the node's agent to enrol its BMC in-band at its next check-in (even with a BMC set)",
    params: NodeIdParamsSchema,
    body: EmptySchema,
    response: NodeSchema,
  },

  // Tags
  'GET /api/v1/tags': { tags: ['tags'], response: TagListSchema },
  'GET /api/v1/tags/:name': { tags: ['tags'], params: NameParamsSchema, response: TagSchema },
  'POST /api/v1/tags': { tags: ['tags'], body: TagInputSchema, status: 201, response: TagSchema },
  'PUT /api/v1/tags/:name': { tags: ['tags'], params: NameParamsSchema, body: TagInputSchema, response: TagSchema },
  'DELETE /api/v1/tags/:name': { tags: ['tags'], params: NameParamsSchema, status: 204 },

  // Policies
  'GET /api/v1/policies': { tags: ['policies'], response: PolicyListSchema },
  'GET /api/v1/policies/:name': { tags: ['policies'], params: NameParamsSchema, response: PolicySchema },
  'POST /api/v1/policies': { tags: ['policies'], body: PolicyInputSchema, status: 201, response: PolicySchema },
  'PUT /api/v1/policies/:name': { tags: ['policies'], params: NameParamsSchema, body: PolicyInputSchema, response: PolicySchema },
  'DELETE /api/v1/policies/:name': { tags: ['policies'], params: NameParamsSchema, status: 204 },
  'POST /api/v1/policies/order': { tags: ['policies'], body: PolicyOrderSchema, response: PolicyListSchema },
  'POST /api/v1/policies/:name/move': { tags: ['policies'], params: NameParamsSchema, body: PolicyMoveSchema, response: PolicyListSchema },
  'POST /api/v1/dry-run': {
    tags: ['policies'],
    summary: 'Which nodes a rule, tag set or policy would match, and why not',
    body: DryRunRequestSchema,
    response: DryRunResultSchema,
  },

  // Tasks
  'GET /api/v1/tasks': { tags: ['tasks'], response: TaskListSchema },
  'GET /api/v1/tasks/:name': { tags: ['tasks'], params: NameParamsSchema, response: TaskSchema },
  'POST /api/v1/tasks': { tags: ['tasks'], body: TaskInputSchema, status: 201, response: TaskSchema },
  'PUT /api/v1/tasks/:name': { tags: ['tasks'], params: NameParamsSchema, body: TaskInputSchema, response: TaskSchema },
  'DELETE /api/v1/tasks/:name': { tags: ['tasks'], params: NameParamsSchema, status: 204 },
  'POST /api/v1/tasks/:name/preview': {
    tags: ['tasks'],
    params: NameParamsSchema,
    body: TaskPreviewRequestSchema,
    response: TaskPreviewSchema,
  },

  // Settings (pushed to agents with their next answer)
  'GET /api/v1/settings': { tags: ['settings'], response: SettingsSchema },
  'PATCH /api/v1/settings': { tags: ['settings'], body: SettingsSchema, response: SettingsSchema },

  // Images and the microkernel (uploads are raw bodies)
  'GET /api/v1/images': { tags: ['images'], response: ImageListSchema },
  'DELETE /api/v1/images/:name': { tags: ['images'], params: NameParamsSchema, status: 204 },
  'PUT /api/v1/images/:name/files/:file': {
    tags: ['images'],
    params: ImageFileParamsSchema,
    rawBody: 'application/octet-stream',
    response: ImageSchema,
  },
  'PUT /api/v1/images/:name/disk': {
    tags: ['images'],
    params: NameParamsSchema,
    query: DiskImportQuerySchema,
    rawBody: 'application/octet-stream',
    response: ImageSchema,
  },
  'PUT /api/v1/images/:name/iso': {
    tags: ['images'],
    summary: 'Unpack an installer ISO (the body) into the image as a package repository served at /images/NAME/repo/',
    params: NameParamsSchema,
    rawBody: 'application/octet-stream',
    response: ImageSchema,
  },
  'PUT /api/v1/microkernel/staging/:file': {
    tags: ['microkernel'],
    params: MicrokernelParams,
    query: MicrokernelStagingQuerySchema,
    rawBody: 'application/octet-stream',
    response: FileEntrySchema,
  },
  'POST /api/v1/microkernel/install': {
    tags: ['microkernel'],
    summary: 'Make the staged files the live microkernel (takes effect at the next boot)',
    body: MicrokernelInstallSchema,
    response: MicrokernelInstalledSchema,
  },

  // Prepared artifacts and bundles (issue 12; docs/prepare.md)
  'GET /api/v1/prepared': { tags: ['prepare'], summary: 'Loaders, microkernels and images the data dir holds', response: PreparedSchema },
  'PUT /api/v1/loaders/:file': {
    tags: ['prepare'],
    summary: 'Install a first-stage loader; refused unless its bytes are the pinned ones',
    params: LoaderFileParamsSchema,
    rawBody: 'application/octet-stream',
    response: LoaderInstalledSchema,
  },
  'PUT /api/v1/bundle': {
    tags: ['prepare'],
    summary: 'Import a bundle, verified completely before anything is written (nodes only into a stopped appliance)',
    rawBody: 'application/octet-stream',
    response: BundleImportedSchema,
  },
  'GET /api/v1/bundle': {
    tags: ['prepare'],
    summary: 'Export this data dir as a bundle (no secrets through the API)',
    query: BundleExportQuerySchema,
    produces: 'application/x-tar',
  },

  // Events and exports
  'GET /api/v1/events': { tags: ['events'], query: EventQuerySchema, response: EventListSchema },
  'GET /api/v1/events/stream': { tags: ['events'], query: EventStreamQuerySchema, produces: 'text/event-stream' },
  'GET /api/v1/export/nodes.json': { tags: ['export'], query: ExportNodesQuerySchema, produces: 'application/json' },
  'GET /api/v1/export/nodes.csv': { tags: ['export'], produces: 'text/csv' },
  'GET /api/v1/export/:format': {
    tags: ['export'],
    summary: 'The inventory for another tool: ansible, netbox, tinkerbell, ironic, json or csv (docs/exports.md)',
    params: ExportParamsSchema,
    query: ExportQuerySchema,
    produces: ['application/yaml', 'text/csv', 'application/json'],
  },

  // Hooks (docs/hooks.md): the webhook URL and the secret are write-only
  'GET /api/v1/hooks': {
    tags: ['hooks'],
    summary: "The hooks; a webhook's `url` only in its display form (secret parts as `…`), never the secret",
    response: HookListSchema,
  },
  'POST /api/v1/hooks': { tags: ['hooks'], body: HookInputSchema, status: 201, response: HookSchema },
  'PUT /api/v1/hooks/:id': {
    tags: ['hooks'],
    summary:
      'Replace a hook; no `url` (or the display form answered) keeps the stored URL, no `secret` keeps the stored one, `"secret": null` removes it',
    params: HookIdParamsSchema,
    body: HookUpdateSchema,
    response: HookSchema,
  },
  'DELETE /api/v1/hooks/:id': { tags: ['hooks'], params: HookIdParamsSchema, status: 204 },
  'POST /api/v1/hooks/:id/test': { tags: ['hooks'], params: HookIdParamsSchema, body: EmptySchema, response: HookDeliverySchema },
  'GET /api/v1/hooks/:id/deliveries': { tags: ['hooks'], params: HookIdParamsSchema, response: HookDeliveryListSchema },

  // DHCP reservations
  'GET /api/v1/reservations': { tags: ['dhcp'], response: ReservationListSchema },
  'GET /api/v1/reservations/:mac': { tags: ['dhcp'], params: ReservationParamsSchema, response: ReservationSchema },
  'PUT /api/v1/reservations/:mac': {
    tags: ['dhcp'],
    params: ReservationParamsSchema,
    body: ReservationInputSchema,
    response: ReservationSchema,
  },
  'DELETE /api/v1/reservations/:mac': { tags: ['dhcp'], params: ReservationParamsSchema, status: 204 },

  // Node edits beyond PATCH (issue 15)
  'PUT /api/v1/nodes/:id/metadata/:key': {
    tags: ['nodes'],
    summary: 'Set one metadata key of a node',
    params: MetadataKeyParamsSchema,
    body: MetadataValueSchema,
    response: NodeSchema,
  },
  'DELETE /api/v1/nodes/:id/metadata/:key': {
    tags: ['nodes'],
    summary: 'Remove one metadata key of a node',
    params: MetadataKeyParamsSchema,
    response: NodeSchema,
  },
  'PUT /api/v1/nodes/:id/address': {
    tags: ['nodes'],
    summary: 'Give the node a static address: its OS is configured with it, and (full DHCP) its boot MAC reserves it',
    params: NodeIdParamsSchema,
    body: NodeAddressInputSchema,
    response: NodeAddressAnswerSchema,
  },
  'DELETE /api/v1/nodes/:id/address': {
    tags: ['nodes'],
    summary: 'Remove the static address and its DHCP reservation',
    params: NodeIdParamsSchema,
    response: NodeAddressAnswerSchema,
  },
  'POST /api/v1/nodes/:id/manifest/accept': {
    tags: ['nodes', 'manifest'],
    summary: 'Accept what the machine reported differently from its manifest row (then the manifest policy may bind it)',
    params: NodeIdParamsSchema,
    body: EmptySchema,
    response: NodeSchema,
  },

  // Rack manifest (docs/manifest.md)
  'POST /api/v1/manifest/preview': {
    tags: ['manifest'],
    summary: 'What importing this manifest would do, row by row (creates, updates, conflicts, errors); changes nothing',
    body: ManifestRequestSchema,
    response: ManifestPlanSchema,
  },
  'POST /api/v1/manifest/import': {
    tags: ['manifest'],
    summary: 'Import: expected records for new machines, updates for matched ones; refused when a row is bad unless skip_invalid',
    body: ManifestRequestSchema,
    response: ManifestPlanSchema,
  },
  'GET /api/v1/manifest': {
    tags: ['manifest'],
    summary: 'Expected machines not seen yet, arrived, unexpected',
    response: ManifestStatusSchema,
  },
} as const satisfies Record<`${RouteMethod} /api/${string}`, RouteSpec>;

/** The route table's type. */
export type AdminRoutes = typeof ADMIN_ROUTES;
/** One route's key, e.g. `'GET /api/v1/nodes/:id'`. */
export type AdminRouteKey = keyof AdminRoutes;

type Part<R, P extends 'params' | 'query' | 'body' | 'response'> = R extends { readonly [K in P]: infer S extends TSchema }
  ? Static<S>
  : undefined;

/** Path parameters of a route (undefined when it has none). */
export type RouteParams<K extends AdminRouteKey> = Part<AdminRoutes[K], 'params'>;
/** Query of a route (undefined when it takes none). */
export type RouteQuery<K extends AdminRouteKey> = Part<AdminRoutes[K], 'query'>;
/** JSON body of a route (undefined when it takes none). */
export type RouteBody<K extends AdminRouteKey> = Part<AdminRoutes[K], 'body'>;
/** What a route answers (void for 204 and for non-JSON answers). */
export type RouteAnswer<K extends AdminRouteKey> = AdminRoutes[K] extends { readonly response: infer S extends TSchema } ? Static<S> : void;

/** What a caller passes: `params` and `body` when the route has them, `query` optionally. */
export type RouteInput<K extends AdminRouteKey> = (RouteParams<K> extends undefined ? unknown : { params: RouteParams<K> }) &
  (RouteQuery<K> extends undefined ? unknown : { query?: RouteQuery<K> }) &
  (RouteBody<K> extends undefined ? unknown : { body: RouteBody<K> });

/** Routes a client calls with JSON (not raw uploads, not streams or downloads). */
export type JsonRouteKey = {
  [K in AdminRouteKey]: AdminRoutes[K] extends { readonly rawBody: string } | { readonly produces: unknown } ? never : K;
}[AdminRouteKey];
