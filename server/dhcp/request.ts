/**
 * One parsed client request and the filter in front of the servers: decode,
 * drop what is not ours to answer (replies, our own looped-back probe, non-
 * Ethernet, plain BOOTP), refuse an option a reply would echo that no single
 * option can hold, read the firmware facts. Pure.
 */
import { MalformedPacket } from '../net/malformed.ts';
import type { Peer } from '../net/pinned-udp.ts';
import { decode, macOf, type DhcpPacket } from './codec.ts';
import { collectOptions, messageType, OPT, type OptionMap } from './options.ts';
import { classifyClient, type ClientFacts } from './classify.ts';

/** A request with what every later step needs. */
export interface Request {
  pkt: DhcpPacket;
  opts: OptionMap;
  /** Option 53. */
  type: number;
  /** chaddr as lowercase `aa:bb:..` (leases are keyed on it, not on option 61). */
  mac: string;
  facts: ClientFacts;
  from: Peer;
  /** It arrived on the PXE boot-server port (4011), not 67. */
  onProxyPort: boolean;
  /** The core's node for this MAC, once looked up. */
  nodeId: number | null;
}

/** A datagram is either a request to decide on or a counted drop. */
export type Parsed = { req: Request } | { drop: 'not_request' | 'own_packet' | 'own_probe' | 'not_ethernet' | 'bootp_ignored' };

/** Who we are, to recognise our own packets looping back. */
export interface Self {
  serverIp: string;
  /** The MAC our foreign-server probe uses (its DISCOVERs reach our own socket). */
  probeMac: string | null;
}

/** Parse and filter one datagram. Throws MalformedPacket (the caller counts and drops). */
export function parseRequest(buf: Uint8Array, from: Peer, self: Self, onProxyPort: boolean): Parsed {
  const pkt = decode(buf);
  if (pkt.op !== 1) return { drop: 'not_request' };
  // Our own probe DISCOVER loops back on the host: never answer ourselves.
  if (from.address === self.serverIp) return { drop: 'own_packet' };
  if (pkt.htype !== 1 || pkt.hlen !== 6) return { drop: 'not_ethernet' };
  const mac = macOf(pkt);
  if (mac === self.probeMac) return { drop: 'own_probe' };
  const opts = collectOptions(pkt);
  const type = messageType(opts);
  if (type === null) return { drop: 'bootp_ignored' };
  refuseLongEcho(opts, OPT.CLIENT_ID);
  refuseLongEcho(opts, OPT.CLIENT_GUID);
  if (pkt.giaddr !== '0.0.0.0') refuseLongEcho(opts, OPT.RELAY_AGENT);
  return { req: { pkt, opts, type, mac, facts: classifyClient(opts), from, onProxyPort, nodeId: null } };
}

/** The most option data one instance carries (RFC 2132 2: a one-byte length). */
const OPTION_DATA_MAX = 255;

/**
 * A reply sends options 61 (RFC 6842), 97 (PXE 2.1) and, to a relay, 82 (RFC 3046) back as they came. RFC 3396 lets a
 * sender split one over several instances, which `collectOptions` joins; joined past 255 bytes, the echo would have
 * to be split again and would not fit the 548 bytes every client accepts beside the lease and boot options. No client
 * or relay we know sends one that long, so the request is refused here, before any decision (an offer held, a lease
 * written), as a malformed packet: counted, and reported at most once per 10 s (handler.ts).
 */
function refuseLongEcho(opts: OptionMap, code: number): void {
  const v = opts.get(code);
  if (v !== undefined && v.length > OPTION_DATA_MAX)
    throw new MalformedPacket(
      'dhcp',
      240,
      `option ${code} is ${v.length} bytes once its RFC 3396 parts are joined; a reply echoes it, and Crashcart echoes at most ${OPTION_DATA_MAX}`,
    );
}

/** True when a relay agent forwarded this request (RFC 2131 4.1: giaddr is set). */
export function isRelayed(r: Request): boolean {
  return r.pkt.giaddr !== '0.0.0.0';
}
