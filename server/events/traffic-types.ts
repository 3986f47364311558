/**
 * The event types that record the rack's traffic: one per packet, request or transfer, which any machine on the rack
 * NIC causes at will (within the budgets: event-budget.ts, node-guard.ts). Every other event is the operator's history:
 * records made, registered, bound, installed, approved, forgotten; settings, services, imports; the summaries of
 * floods. The event log keeps that history in a ring of its own as well (event-log.ts), so a flood of traffic, however
 * long, cannot push it out of the log: retention trims traffic first. The history a node's own token lets it repeat
 * (a check-in marked first, changed facts) is bounded per node where it is written (`NodeGuard.nodeEvent`).
 */
import { EVENT_TYPES, type EventType } from '../../contract/event-types.ts';

/** DHCP events that are not per packet: a competing server seen, a reservation changed. */
const DHCP_HISTORY: readonly EventType[] = ['dhcp.foreign_server', 'dhcp.reservation'];

/** Every `dhcp.*` event but those (one per packet or per MAC), every `tftp.*` event (one per transfer), and these. */
const TRAFFIC: readonly EventType[] = [
  ...EVENT_TYPES.filter((t) => (t.startsWith('dhcp.') && !DHCP_HISTORY.includes(t)) || t.startsWith('tftp.')),
  'http.transfer',
  'boot.loader_missing',
  'node.discovered',
  'node.boot',
  'node.token_refused',
  'node.config_refused',
  'node.task_progress',
];

/** Types of the rack's traffic (the rest is history). */
export const TRAFFIC_EVENT_TYPES: ReadonlySet<string> = new Set(TRAFFIC);

/** Is an event of `type` part of the operator's history (kept apart from the traffic's retention)? */
export function isHistory(type: string): boolean {
  return !TRAFFIC_EVENT_TYPES.has(type);
}
