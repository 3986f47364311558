/** The event list of the admin API: newest first (paging back with `before`), or oldest first after a seq (`after`, for catching up). */
import type { CcEvent, EventQuery } from '../../contract/index.ts';
import type { EventLog } from './event-log.ts';

/** Page size of a catch-up read (`after`) when the caller names none. */
const CATCH_UP_PAGE = 1000;

/** Answer an event query. */
export function listEvents(events: EventLog, q: EventQuery): Promise<CcEvent[]> {
  if (q.after !== undefined) return events.since(q.after, q.limit ?? CATCH_UP_PAGE);
  return events.query(q);
}
