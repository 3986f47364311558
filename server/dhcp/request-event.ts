/** The payload of a `dhcp.*` event for one message: who, what firmware, which address and file. Pure. */
import type { DhcpMessageData, DhcpMessageEventType, DhcpMessageExtra } from '../../contract/event-data.ts';
import type { EventInput } from '../events/event-log.ts';
import { MSG_NAME } from './options.ts';
import type { Request } from './request.ts';

/** What `events.emit` takes for a DHCP message. */
export type DhcpEventPayload = EventInput<DhcpMessageEventType> & { node_id: number | null; mac: string; data: DhcpMessageData };

/** Build the event for a received or sent message (`extra` carries ip, file, proxy, strategy, reason). */
export function requestEvent(r: Request, msg: number, extra: DhcpMessageExtra = {}): DhcpEventPayload {
  const f = r.facts;
  const name = MSG_NAME[msg] ?? String(msg);
  const ip = extra.ip ?? null;
  const file = extra.file ?? null;
  return {
    node_id: r.nodeId,
    mac: r.mac,
    message: `${name} ${r.mac}${ip ? ` ${ip}` : ''}${f.arch !== null ? ` arch ${f.arch}` : ''}${file ? ` file ${file}` : ''}`,
    data: {
      xid: r.pkt.xid,
      from: r.from.address,
      ciaddr: r.pkt.ciaddr !== '0.0.0.0' ? r.pkt.ciaddr : null,
      giaddr: r.pkt.giaddr !== '0.0.0.0' ? r.pkt.giaddr : null,
      arch: f.arch,
      vendor_class: f.vendorClass,
      user_class: f.userClass,
      guid: f.guid,
      ipxe: f.ipxe,
      ...extra,
    },
  };
}
