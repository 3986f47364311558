/**
 * A BOOTREQUEST as a client puts it on the wire (RFC 2131 2: op 1, Ethernet, a 6-byte chaddr, the magic cookie,
 * padded to the 300-byte BOOTP minimum as firmware pads it). Pure: the foreign-server probe, the DHCP warm start
 * and the tests' clients all build their packets here.
 */
import { encode, encodedLength, MIN_REPLY_LEN, type DhcpOption, type DhcpPacket } from './codec.ts';

/** The fields a client chooses; the rest of the header is zero. */
export interface ClientRequest {
  /** The client's 6-byte MAC. */
  mac: Uint8Array;
  xid: number;
  /** Options in order, as [code, data]. */
  options: [number, Uint8Array][];
  secs?: number;
  /** 0x8000: the broadcast flag (RFC 2131 4.1). */
  flags?: number;
  ciaddr?: string;
  /** A relay's address; hops is then 1 (the relay counted itself). */
  giaddr?: string | null;
}

/** Encode `r` into the bytes a client would send. */
export function encodeClientRequest(r: ClientRequest): Uint8Array {
  // Built by push, as the reply's list (reply.ts): `encode` reads both, and an array made by `map` has another map.
  // A loop of its own: one helper shared with reply.ts met both callers' pair arrays and deoptimised `discover` (tried).
  const options: DhcpOption[] = [];
  for (const [code, data] of r.options) options.push({ code, data });
  const chaddr = new Uint8Array(16);
  chaddr.set(r.mac.subarray(0, 6));
  const pkt: DhcpPacket = {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: r.giaddr ? 1 : 0,
    xid: r.xid,
    secs: r.secs ?? 0,
    flags: r.flags ?? 0,
    ciaddr: r.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: r.giaddr ?? '0.0.0.0',
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    cookie: true,
    options,
    end: true,
    trailer: new Uint8Array(0),
  };
  pkt.trailer = new Uint8Array(Math.max(0, MIN_REPLY_LEN - encodedLength(pkt)));
  return encode(pkt);
}
