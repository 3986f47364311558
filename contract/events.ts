/** The append-only event log's shape, shared by server and renderer. */
import { Type, type Static } from 'typebox';
import type { EventType } from './event-types.ts';
import type { EventData } from './event-data.ts';

export { EVENT_TYPES, type EventType } from './event-types.ts';
export type { EventData } from './event-data.ts';

/**
 * One event as stored and streamed (SSE id = seq). `data` stays an open record in the JSON schema (the routes
 * serialise whatever the log holds, events of older versions too); its shape per type is contract/event-data.ts.
 */
const EventWireSchema = Type.Object({
  seq: Type.Integer(),
  ts: Type.String(),
  type: Type.String(),
  node_id: Type.Union([Type.Integer(), Type.Null()]),
  mac: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});

/** One event of type `T`, its `data` typed by its row. */
export type EventOf<T extends EventType> = Omit<Static<typeof EventWireSchema>, 'type' | 'data'> & { type: T; data: EventData<T> };

/** One event: a union narrowed by `type` (`if (e.type === 'tftp.finish') e.data.bytes`). */
export type CcEvent = { [K in EventType]: EventOf<K> }[EventType];

/** The event routes' schema: the wire JSON schema above, typed as `CcEvent` for the clients derived from the route table. */
export const EventSchema = Type.Unsafe<CcEvent>(EventWireSchema);
