/** Event log filters: type prefix, node id and free text. Pure. */
import type { CcEvent, EventType } from '../../../contract/events.ts';

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

/** Query string for GET /api/v1/events with the server-side part of the filter. */
export function eventQuery(f: EventFilter, limit: number, before?: number): string {
  const p = new URLSearchParams({ limit: String(limit) });
  if (f.nodeId.trim()) p.set('node_id', f.nodeId.trim());
  if (f.type && !f.type.endsWith('.')) p.set('type', f.type);
  if (before !== undefined) p.set('before', String(before));
  return p.toString();
}

/** Colour class by severity. */
export function eventLevel(e: CcEvent): 'error' | 'warn' | 'info' {
  if (e.type.endsWith('.error') || e.type === 'dhcp.nak' || e.type === 'dhcp.malformed' || e.type === 'node.conflict') return 'error';
  if (
    e.type === 'node.lost' ||
    e.type === 'node.config_refused' ||
    e.type === 'dhcp.foreign_server' ||
    e.type === 'dhcp.decline' ||
    e.type === 'boot.loader_missing'
  )
    return 'warn';
  return 'info';
}

/**
 * Every event type, for the filter picker. The renderer imports only types from the contract (no
 * TypeBox at run time); the Record makes the compiler reject a missing or unknown type.
 */
const EVENT_TYPE_SET: Record<EventType, true> = {
  'node.discovered': true,
  'node.boot': true,
  'node.registered': true,
  'node.facts_changed': true,
  'node.merged': true,
  'node.conflict': true,
  'node.config_refused': true,
  'node.checkin': true,
  'node.lost': true,
  'node.found': true,
  'node.tags_changed': true,
  'node.bound': true,
  'node.unbound': true,
  'node.reinstall': true,
  'node.reboot_sent': true,
  'node.poweroff_sent': true,
  'node.stage': true,
  'node.forgotten': true,
  'node.error': true,
  'dhcp.discover': true,
  'dhcp.offer': true,
  'dhcp.request': true,
  'dhcp.ack': true,
  'dhcp.nak': true,
  'dhcp.decline': true,
  'dhcp.release': true,
  'dhcp.inform': true,
  'dhcp.proxy': true,
  'dhcp.foreign_server': true,
  'dhcp.malformed': true,
  'dhcp.reservation': true,
  'tftp.start': true,
  'tftp.finish': true,
  'tftp.error': true,
  'http.transfer': true,
  'service.state': true,
  'service.error': true,
  'tag.changed': true,
  'policy.changed': true,
  'image.imported': true,
  'microkernel.installed': true,
  'loader.installed': true,
  'bundle.imported': true,
  'boot.loader_missing': true,
  'admin.signed_out_everywhere': true,
  'store.repaired': true,
  'bmc.action': true,
  'bmc.warning': true,
  'bmc.error': true,
  'bmc.tls_pinned': true,
  'bmc.tls_changed': true,
};

/** Event types in contract order. */
export const EVENT_TYPE_LIST = Object.keys(EVENT_TYPE_SET) as EventType[];
