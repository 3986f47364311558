/**
 * Building a BOOTREPLY from a request (RFC 2131 4.3.1 table 3) and deciding
 * where it goes (RFC 2131 4.1). Pure functions.
 */
import { encode, encodedLength, fixedField, MIN_REPLY_LEN, DEFAULT_MAX_MESSAGE, type DhcpOption, type DhcpPacket } from './codec.ts';
import { OPT, type OptionMap } from './options.ts';

/** What the handler decided to put into a reply. */
export interface ReplyFields {
  yiaddr: string;
  siaddr: string;
  /** Boot file name or URL for the `file` field (empty = none; longer than FILE_FIELD_MAX: left empty). */
  file: string;
  /** Options in the order to send, 53 first; 82 is appended last by `buildReply`. */
  options: [number, Uint8Array][];
}

/**
 * The `file` field holds 127 characters and a NUL (RFC 2131 2). A longer name goes in option 67 alone
 * (boot-options.ts) and the field stays empty: iPXE reads a populated `file` field before option 67, so a
 * name cut to fit there would win over the whole one.
 */
export const FILE_FIELD_MAX = 127;

/** Zeroed fixed fields shared by every reply: `encode` only reads them, the overload builds a new sname. */
const EMPTY_SNAME = new Uint8Array(64);
const EMPTY_FILE = new Uint8Array(128);

/** RFC 2131 4.1: the broadcast bit of `flags`. */
export const FLAG_BROADCAST = 0x8000;

/**
 * Build the reply packet: header copied from the request (xid, flags, giaddr,
 * chaddr, hops), padded to 300 bytes, options that do not fit the client's
 * max message size moved into `sname` with overload (RFC 2131 4.1, RFC 2132 9.3).
 */
export function buildReply(
  req: DhcpPacket,
  f: ReplyFields,
  relayInfo: Uint8Array | null,
  maxMessage: number | null,
  clientId: Uint8Array | null = null,
): Uint8Array {
  // Built by push alone. Made by `map` (a holey array, another V8 map) and then spliced, the list reached this
  // function's optimised code with a map it had not seen: V8 deoptimised it and `reply` ("wrong map") during the DHCP
  // warm start, and `reply` was compiled again under the first real load (docs/perf/changes.md, "The reply's option
  // list"). 53 and 54 lead.
  const src = f.options;
  let head = 0;
  while (head < src.length && (src[head]![0] === OPT.MESSAGE_TYPE || src[head]![0] === OPT.SERVER_ID)) head++;
  const opts = pushOptions(src, 0, head, []);
  // RFC 6842 3: the client identifier goes back unaltered. Right after 53/54, so that when the reply is too long for
  // the client the overload moves the options behind it into sname, not it.
  if (clientId) opts.push({ code: OPT.CLIENT_ID, data: clientId });
  pushOptions(src, head, src.length, opts);
  // RFC 3046 2.2: the relay agent information option is echoed, and must be last.
  if (relayInfo) opts.push({ code: OPT.RELAY_AGENT, data: relayInfo });
  const pkt: DhcpPacket = {
    op: 2,
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    flags: req.flags,
    ciaddr: req.ciaddr,
    yiaddr: f.yiaddr,
    siaddr: f.siaddr,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: EMPTY_SNAME,
    file: f.file && f.file.length <= FILE_FIELD_MAX ? fixedField(f.file, 128) : EMPTY_FILE,
    cookie: true,
    options: opts,
    end: true,
    trailer: new Uint8Array(0),
  };
  // Option 57 counts the IP and UDP headers too (RFC 2132 9.10, as ISC and iPXE read it): 28 bytes off.
  const limit = Math.max(DEFAULT_MAX_MESSAGE, Math.min((maxMessage ?? 0) - 28, 1500 - 28));
  if (encodedLength(pkt) > limit) overloadIntoSname(pkt, limit);
  const len = encodedLength(pkt);
  if (len < MIN_REPLY_LEN) pkt.trailer = new Uint8Array(MIN_REPLY_LEN - len);
  return encode(pkt);
}

/** Push the pairs `start..end` of `src` onto `into` as options. */
function pushOptions(src: [number, Uint8Array][], start: number, end: number, into: DhcpOption[]): DhcpOption[] {
  for (let i = start; i < end; i++) into.push({ code: src[i]![0], data: src[i]![1] });
  return into;
}

/** Move trailing options (never 53/54/52) into the 64-byte sname field with option 52 = 2. */
function overloadIntoSname(pkt: DhcpPacket, limit: number): void {
  const moved: DhcpOption[] = [];
  let room = 63; // leave one byte for END inside sname
  pkt.options.push({ code: OPT.OVERLOAD, data: Uint8Array.of(2) });
  while (encodedLength(pkt) > limit && pkt.options.length > 2) {
    const idx = pkt.options.length - 2; // keep option 52 last in the main area
    const o = pkt.options[idx] as DhcpOption;
    if (o.code === OPT.MESSAGE_TYPE || o.code === OPT.SERVER_ID || 2 + o.data.length > room) break;
    pkt.options.splice(idx, 1);
    moved.unshift(o);
    room -= 2 + o.data.length;
  }
  const sname = new Uint8Array(64);
  let p = 0;
  for (const o of moved) {
    sname[p++] = o.code;
    sname[p++] = o.data.length;
    sname.set(o.data, p);
    p += o.data.length;
  }
  sname[p] = 255;
  pkt.sname = sname;
  if (moved.length === 0) pkt.options.pop();
}

/**
 * The option 82 to echo, if any. RFC 3046 2.2: the server echoes the relay agent
 * information in its reply to the relay. Only a relayed request (giaddr set) has
 * one: a client on the link that sends 82 itself gets none back, so it cannot make
 * our broadcast replies carry bytes of its choosing that look like a relay's.
 */
export function relayInfoToEcho(req: DhcpPacket, opts: OptionMap): Uint8Array | null {
  return req.giaddr !== '0.0.0.0' ? (opts.get(OPT.RELAY_AGENT) ?? null) : null;
}

/**
 * The option 61 to echo, if any. RFC 6842 3: a server that receives a client identifier MUST return it unaltered in
 * its response (clients that identify themselves by it match replies on it; Kea and ISC dhcpd echo it).
 */
export function clientIdToEcho(opts: OptionMap): Uint8Array | null {
  return opts.get(OPT.CLIENT_ID) ?? null;
}

/** Where a reply goes. */
export interface ReplyTarget {
  address: string;
  port: number;
}

/**
 * The client address a full-mode reply may be unicast to (RFC 2131 4.1: "ciaddr"), or null (broadcast). Only a client
 * that holds an address fills ciaddr in: RENEWING, REBINDING and INFORM (RFC 2131 4.3.2, 4.3.5, table 5); in a DISCOVER
 * and in a SELECTING or INIT-REBOOT REQUEST it MUST be 0 and is ignored (`holdsAddress` false). And it is used only
 * when it is the datagram's own IP source and inside a subnet we serve (`served`): taken on the sender's word, ciaddr
 * would aim our replies at any host it names, a reflector.
 */
export function clientUnicastAddress(ciaddr: string, source: string, holdsAddress: boolean, served: boolean): string | null {
  return holdsAddress && served && ciaddr !== '0.0.0.0' && ciaddr === source ? ciaddr : null;
}

/**
 * RFC 2131 4.1 reply destination: relayed -> giaddr:67 (the caller answers only a relay it serves); a NAK -> broadcast;
 * `unicastTo` (a client address `clientUnicastAddress` checked) -> unicast to it:68; anything else -> broadcast (a Node
 * socket cannot write an ARP entry for yiaddr, so broadcast replaces unicast-to-yiaddr). ciaddr is never read here.
 */
export function replyTarget(req: DhcpPacket, isNak: boolean, unicastTo: string | null, relayPort = 67, clientPort = 68): ReplyTarget {
  if (req.giaddr !== '0.0.0.0') return { address: req.giaddr, port: relayPort };
  if (isNak || unicastTo === null) return { address: '255.255.255.255', port: clientPort };
  return { address: unicastTo, port: clientPort };
}
