/** Admin API shapes around nodes (list, detail, facts, edit) and the event log, beyond the node model itself. */
import { Type, type Static } from 'typebox';
import { FactsSchema, HOSTNAME_PATTERN, InventorySchema, NodeSchema } from './node.ts';
import { EventSchema } from './events.ts';

/** Path of the routes that name one node. */
export const NodeIdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** GET /api/v1/nodes query: a page, optionally filtered by state or a search string. */
export const NodeListQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  state: Type.Optional(Type.String({ maxLength: 32 })),
  q: Type.Optional(Type.String({ maxLength: 256 })),
  /** Manifest group: still expected (waiting), arrived, or named by no manifest row (unexpected). */
  manifest: Type.Optional(Type.Union([Type.Literal('waiting'), Type.Literal('arrived'), Type.Literal('unexpected')])),
  /** Only nodes registered from another microkernel than the one served now (true), or only current ones (false). */
  outdated_microkernel: Type.Optional(Type.Boolean()),
});
/** Node list query. */
export type NodeListQuery = Static<typeof NodeListQuerySchema>;

/** Answer of GET /api/v1/nodes: one page and the number of nodes that matched. */
export const NodeListSchema = Type.Object({ nodes: Type.Array(NodeSchema), total: Type.Integer() });
/** A page of nodes. */
export type NodeList = Static<typeof NodeListSchema>;

/** GET /api/v1/nodes/:id/facts: the flat facts and the structured inventory (null before registration). */
export const NodeFactsSchema = Type.Object({ facts: FactsSchema, inventory: Type.Union([InventorySchema, Type.Null()]) });
/** A node's facts. */
export type NodeFacts = Static<typeof NodeFactsSchema>;

/** PATCH /api/v1/nodes/:id: what the operator may edit on a node. */
export const NodePatchSchema = Type.Object(
  {
    /** A hostname the node keeps over its policy's template; null hands it back to the template. */
    hostname: Type.Optional(Type.Union([Type.String({ pattern: HOSTNAME_PATTERN }), Type.Null()])),
    efi_loader: Type.Optional(Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi'), Type.Null()])),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
/** Node edit. */
export type NodePatch = Static<typeof NodePatchSchema>;

/** GET /api/v1/nodes/:id/events query. */
export const NodeEventsQuerySchema = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })) });

/** GET /api/v1/events query: newest first (`before` pages back), or oldest first after a seq (`after`). */
export const EventQuerySchema = Type.Object({
  node_id: Type.Optional(Type.Integer({ minimum: 1 })),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  after: Type.Optional(Type.Integer({ minimum: 0 })),
});
/** Event query. */
export type EventQuery = Static<typeof EventQuerySchema>;

/** A list of events. */
export const EventListSchema = Type.Object({ events: Type.Array(EventSchema) });
/** Event list. */
export type EventList = Static<typeof EventListSchema>;

/** GET /api/v1/events/stream query (the Last-Event-ID header wins when both are sent). */
export const EventStreamQuerySchema = Type.Object({ last_event_id: Type.Optional(Type.Integer({ minimum: 0 })) });
