/** Event log filters: type prefix, node id and free text. Pure. */
import type { CcEvent } from '../../../contract/events.ts';
import type { EventQuery } from '../../../contract/node-api.ts';
import { EVENT_TYPES, type EventType } from '../../../contract/event-types.ts';

/** The event log's filter. */
export interface EventFilter {
  /** Prefix of the type, e.g. `dhcp.` or `node.bound`; '' = all. */
  type: string;
  /** Node id as typed; '' = all. */
  nodeId: string;
  text: string;
}

/** Does the event pass the filter? */
export function eventMatches(e: CcEvent, f: EventFilter): boolean {
  if (f.type && !e.type.startsWith(f.type)) return false;
  if (f.nodeId.trim() && String(e.node_id ?? '') !== f.nodeId.trim()) return false;
  const q = f.text.trim().toLowerCase();
  if (q && !`${e.type} ${e.message} ${e.mac ?? ''} ${JSON.stringify(e.data)}`.toLowerCase().includes(q)) return false;
  return true;
}

/** Query of GET /api/v1/events with the server-side part of the filter (a type prefix stays local). */
export function eventQuery(f: EventFilter, limit: number, before?: number): EventQuery {
  const q: EventQuery = { limit };
  if (f.nodeId.trim()) q.node_id = Number(f.nodeId.trim());
  if (f.type && !f.type.endsWith('.')) q.type = f.type;
  if (before !== undefined) q.before = before;
  return q;
}

/** Colour class by severity. */
export function eventLevel(e: CcEvent): 'error' | 'warn' | 'info' {
  if (e.type.endsWith('.error') || e.type === 'dhcp.nak' || e.type === 'dhcp.malformed' || e.type === 'node.conflict') return 'error';
  if (e.type === 'node.token_refused' || e.type === 'hook.failed') return 'error';
  if (
    e.type === 'node.lost' ||
    e.type === 'node.config_refused' ||
    e.type === 'node.suppressed' ||
    e.type === 'dhcp.foreign_server' ||
    e.type === 'dhcp.decline' ||
    e.type === 'boot.loader_missing'
  )
    return 'warn';
  return 'info';
}

/** Event types in contract order, for the filter picker (one list, in contract/event-types.ts). */
export const EVENT_TYPE_LIST: readonly EventType[] = EVENT_TYPES;
