/** Typed views of recorded events for tests: narrow by type, build one by hand, check one against its row. */
import { Compile } from 'typebox/compile';
import type { CcEvent, EventOf, EventType } from '../../contract/index.ts';
import { EVENT_DATA } from '../../contract/event-data.ts';
import { EVENT_TYPES } from '../../contract/event-types.ts';
import type { EventInput } from '../../server/events/event-log.ts';

const checkers = new Map(Object.entries(EVENT_DATA).map(([t, s]) => [t, Compile(s)]));

/** What is wrong with an event's `data` against its row in contract/event-data.ts (empty: nothing). */
export function eventProblems(e: { type: string; data: unknown }): string[] {
  const c = checkers.get(e.type);
  if (!c || !(EVENT_TYPES as readonly string[]).includes(e.type)) return [`${e.type}: no row in contract/event-data.ts`];
  if (c.Check(e.data)) return [];
  return [...c.Errors(e.data)].map(
    (x) => `${e.type}: ${x.instancePath || '/'} ${x.message} (data ${JSON.stringify(e.data).slice(0, 300)})`,
  );
}

/** The events of one type, typed by its row (contract/event-data.ts). */
export function ofType<T extends EventType>(events: readonly CcEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> & CcEvent => e.type === type);
}

/**
 * One event as the log would record it, for fakes of `EventSink`: its data is checked against its row
 * first, so every suite that records events through a fake checks the payloads its code emits.
 */
export function makeEvent<T extends EventType>(type: T, seq: number, e: EventInput<T>, ts = new Date(0).toISOString()): CcEvent {
  // JSON round trip: what the log writes and the routes send (undefined fields vanish).
  const data: unknown = JSON.parse(JSON.stringify(e.data));
  const bad = eventProblems({ type, data });
  if (bad.length > 0) throw new Error(`event payload does not match its row: ${bad.join('; ')}`);
  // EventInput<T> ties data to type; the union cannot be narrowed from a generic T.
  return { seq, ts, type, node_id: e.node_id ?? null, mac: e.mac ?? null, message: e.message, data: e.data } as CcEvent;
}
