/** The append-only event log's shape, shared by server and renderer. */
import { Type, type Static } from 'typebox';

/** Every event type the appliance emits. */
export const EVENT_TYPES = [
  'node.discovered',
  'node.boot',
  'node.registered',
  'node.facts_changed',
  'node.merged',
  'node.conflict',
  'node.config_refused',
  'node.checkin',
  'node.lost',
  'node.found',
  'node.tags_changed',
  'node.bound',
  'node.unbound',
  'node.reinstall',
  'node.reboot_sent',
  'node.poweroff_sent',
  'node.stage',
  'node.forgotten',
  'node.error',
  'dhcp.discover',
  'dhcp.offer',
  'dhcp.request',
  'dhcp.ack',
  'dhcp.nak',
  'dhcp.decline',
  'dhcp.release',
  'dhcp.inform',
  'dhcp.proxy',
  'dhcp.foreign_server',
  'dhcp.malformed',
  'dhcp.reservation',
  'tftp.start',
  'tftp.finish',
  'tftp.error',
  'http.transfer',
  'service.state',
  'service.error',
  'tag.changed',
  'policy.changed',
  'image.imported',
  'microkernel.installed',
  'loader.installed',
  'bundle.imported',
  'boot.loader_missing',
  'admin.signed_out_everywhere',
  'store.repaired',
  'bmc.action',
  'bmc.warning',
  'bmc.error',
  'bmc.tls_pinned',
  'bmc.tls_changed',
] as const;
/** One event type. */
export type EventType = (typeof EVENT_TYPES)[number];

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
