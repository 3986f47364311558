/** The append-only event log's shape, shared by server and renderer. */
import { Type, type Static } from 'typebox';

export { EVENT_TYPES, type EventType } from './event-types.ts';

/** One event as stored and streamed (SSE id = seq). */
export const EventSchema = Type.Object({
  seq: Type.Integer(),
  ts: Type.String(),
  type: Type.String(),
  node_id: Type.Union([Type.Integer(), Type.Null()]),
  mac: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});
/** One event. */
export type CcEvent = Static<typeof EventSchema>;
