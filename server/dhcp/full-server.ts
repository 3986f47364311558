/**
 * Full DHCP server decisions (RFC 2131 4.3): DISCOVER -> OFFER; REQUEST in
 * every client state -> ACK/NAK; DECLINE, RELEASE, INFORM. An ACKed lease is
 * on disk (group-committed fdatasync) before the ACK is returned.
 */
import { ipToInt, prefixToNetmask, intToIp, prefixMask } from '../net/ipv4.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { OPT, MSG, ipOption, ipBytes, u32Bytes, textOption, textBytes, maxMessageSize } from './options.ts';
import { buildReply, replyTarget } from './reply.ts';
import { inPoolSubnet, poolFor, type Pool } from './lease-table.ts';
import { DECLINE_QUARANTINE_S, OFFER_HOLD_S, REBINDING_FRACTION, RENEWAL_FRACTION } from './defaults.ts';
import type { DhcpHandler, Outgoing, Request } from './handler.ts';

const ZERO = '0.0.0.0';

/** Dispatch one request by message type. */
export async function handleFull(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  switch (r.type) {
    case MSG.DISCOVER:
      return discover(h, r);
    case MSG.REQUEST:
      return request(h, r);
    case MSG.DECLINE:
      return decline(h, r);
    case MSG.RELEASE:
      return release(h, r);
    case MSG.INFORM:
      return inform(h, r);
    default:
      h.count('ignored_type');
      return [];
  }
}

/** RFC 2131 4.3.1: the pool is chosen by giaddr when relayed, else by the NIC's own subnet. */
function pickPool(h: DhcpHandler, r: Request): Pool | null {
  const p = poolFor(h.d.pools, r.pkt.giaddr !== ZERO ? r.pkt.giaddr : h.d.serverIp);
  if (!p) h.count('no_pool');
  return p;
}

/** Options every address-carrying reply gets (RFC 2131 4.3.1 table 3). */
function leaseOptions(h: DhcpHandler, msg: number, pool: Pool, withTimes: boolean, hostname: string | null): [number, Uint8Array][] {
  const o: [number, Uint8Array][] = [
    [OPT.MESSAGE_TYPE, Uint8Array.of(msg)],
    [OPT.SERVER_ID, ipBytes(h.d.serverIp)],
  ];
  if (withTimes) {
    const t = h.d.leaseS;
    o.push(
      [OPT.LEASE_TIME, u32Bytes(t)],
      [OPT.RENEWAL_T1, u32Bytes(Math.floor(t * RENEWAL_FRACTION))],
      [OPT.REBINDING_T2, u32Bytes(Math.floor(t * REBINDING_FRACTION))],
    );
  }
  o.push([OPT.SUBNET_MASK, ipBytes(prefixToNetmask(pool.prefix))]);
  o.push([OPT.BROADCAST, ipBytes(intToIp((pool.network | ~prefixMask(pool.prefix)) >>> 0))]);
  // On the appliance's own (isolated) subnet it is the nominal gateway and name server: installers such
  // as Debian's stop and ask for a router and name servers when DHCP gives none, before any preseed is
  // read. Everything nodes fetch is addressed by IP, so nothing depends on routing or DNS answers.
  const server = ipToInt(h.d.serverIp);
  if (server !== null && (server & prefixMask(pool.prefix)) >>> 0 === pool.network >>> 0) {
    o.push([OPT.ROUTER, ipBytes(h.d.serverIp)], [OPT.DNS, ipBytes(h.d.serverIp)]);
  }
  if (hostname) o.push([OPT.HOSTNAME, textBytes(hostname)]);
  return o;
}

async function reply(h: DhcpHandler, r: Request, msg: number, yiaddr: string, pool: Pool, withTimes: boolean): Promise<Outgoing> {
  const res = h.d.table.reservation(r.mac);
  const options = leaseOptions(h, msg, pool, withTimes, res?.hostname ?? null);
  let file = '';
  let siaddr = ZERO;
  const choice = await h.bootChoice(r);
  if (choice) {
    file = choice.file;
    siaddr = h.d.serverIp; // TFTP server for loaders; ${next-server} for an embedded iPXE script
    // Full mode: the offer carries the file, so PXE firmware skips discovery (43/6 = 8).
    options.push(...h.bootOptions(r, choice, choice.kind === 'tftp' && r.facts.pxe && !r.facts.ipxe, true));
  }
  const buf = buildReply(r.pkt, { yiaddr, siaddr, file, options }, r.opts.get(OPT.RELAY_AGENT) ?? null, maxMessageSize(r.opts));
  return { buf, to: replyTarget(r.pkt, false) };
}

async function discover(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  h.event('dhcp.discover', r, MSG.DISCOVER);
  const pool = pickPool(h, r);
  if (!pool) return [];
  const now = h.d.now();
  const requested = ipOption(r.opts, OPT.REQUESTED_IP);
  let ip: string | null = null;
  for (let tries = 0; tries < 3; tries++) {
    ip = h.d.table.choose(pool, r.mac, requested, now);
    if (!ip || !h.d.conflictCheck || h.d.table.get(r.mac)?.ip === ip) break;
    if (!(await h.d.conflictCheck(ip))) break;
    // Something answers on that address: treat like a DECLINE (RFC 2131 4.4.1).
    h.count('conflicts');
    h.d.table.decline('', ip, now + DECLINE_QUARANTINE_S * 1000);
    ip = null;
  }
  if (!ip) {
    h.count('exhausted');
    h.d.log.warn({ pool: pool.name, mac: r.mac }, 'dhcp: pool exhausted');
    return [];
  }
  const prev = h.d.table.get(r.mac);
  if (!(prev && prev.ip === ip && prev.state === 'bound' && prev.expires_at > now)) {
    const offer = leaseDoc(r, ip, pool, 'offered', now + OFFER_HOLD_S * 1000, now);
    if (prev && prev.state !== 'offered') offer.previous = prev; // in memory only: offers are not written
    h.d.table.set(offer);
  }
  const out = await reply(h, r, MSG.OFFER, ip, pool, true);
  h.count('offers');
  h.event('dhcp.offer', r, MSG.OFFER, { ip, file: fileOf(out) });
  return [out];
}

function fileOf(o: Outgoing): string | null {
  const f = Buffer.from(o.buf.subarray(108, 236));
  const z = f.indexOf(0);
  const s = f.subarray(0, z < 0 ? f.length : z).toString('latin1');
  return s || null;
}

function leaseDoc(r: Request, ip: string, pool: Pool, state: LeaseDoc['state'], expires: number, now: number): LeaseDoc {
  const cid = r.opts.get(OPT.CLIENT_ID);
  return {
    _id: r.mac,
    mac: r.mac,
    ip,
    state,
    expires_at: expires,
    pool: pool.name,
    hostname: textOption(r.opts, OPT.HOSTNAME),
    client_id: cid ? Buffer.from(cid).toString('hex') : null,
    updated_at: now,
    arch: r.facts.arch,
  };
}

/** RFC 2131 4.3.2: which state the client is in decides what it asks for. */
async function request(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  h.event('dhcp.request', r, MSG.REQUEST);
  const sid = ipOption(r.opts, OPT.SERVER_ID);
  const requested = ipOption(r.opts, OPT.REQUESTED_IP);
  let ip: string | null;
  if (sid !== null) {
    // SELECTING: the client chose a server; if not us, our offer is void.
    if (sid !== h.d.serverIp) {
      h.d.table.dropOffer(r.mac);
      h.count('chose_other_server');
      return [];
    }
    ip = requested ?? (r.pkt.ciaddr !== ZERO ? r.pkt.ciaddr : null);
  } else if (requested !== null) {
    ip = requested; // INIT-REBOOT
  } else if (r.pkt.ciaddr !== ZERO) {
    ip = r.pkt.ciaddr; // RENEWING (unicast) or REBINDING (broadcast)
  } else {
    ip = null;
  }
  const pool = pickPool(h, r);
  if (!pool) return [];
  if (ip === null) return nak(h, r, pool, 'REQUEST names no address');
  const n = ipToInt(ip);
  if (n === null || !inPoolSubnet(pool, n)) return nak(h, r, pool, `${ip} is not on this network`);
  const now = h.d.now();
  const mine = h.d.table.get(r.mac);
  if (mine && mine.ip !== ip && mine.state === 'bound' && mine.expires_at > now)
    return nak(h, r, pool, `${r.mac} holds ${mine.ip}, not ${ip}`);
  if (!h.d.table.available(pool, r.mac, n, now)) return nak(h, r, pool, `${ip} is not available to ${r.mac}`);
  const doc = leaseDoc(r, ip, pool, 'bound', now + h.d.leaseS * 1000, now);
  const { evicted } = h.d.table.set(doc);
  if (evicted) void h.d.remove(evicted).catch(() => undefined);
  try {
    await h.d.persist(doc, true);
  } catch (e) {
    h.count('store_errors');
    h.d.log.error({ err: e, mac: r.mac }, 'dhcp: lease not written; ACK withheld');
    return [];
  }
  const out = await reply(h, r, MSG.ACK, ip, pool, true);
  h.count('acks');
  h.event('dhcp.ack', r, MSG.ACK, { ip, file: fileOf(out), lease_s: h.d.leaseS });
  return [out];
}

function nak(h: DhcpHandler, r: Request, pool: Pool, why: string): Outgoing[] {
  // RFC 2131 4.3.2 table 3: a NAK carries 53, 54 and a message; no address, no boot info.
  const options: [number, Uint8Array][] = [
    [OPT.MESSAGE_TYPE, Uint8Array.of(MSG.NAK)],
    [OPT.SERVER_ID, ipBytes(h.d.serverIp)],
    [OPT.MESSAGE, textBytes(why)],
  ];
  const req = { ...r.pkt, ciaddr: ZERO };
  const buf = buildReply(req, { yiaddr: ZERO, siaddr: ZERO, file: '', options }, r.opts.get(OPT.RELAY_AGENT) ?? null, null);
  h.count('naks');
  h.event('dhcp.nak', r, MSG.NAK, { reason: why, pool: pool.name });
  return [{ buf, to: replyTarget(r.pkt, true) }];
}

async function decline(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  const sid = ipOption(r.opts, OPT.SERVER_ID);
  const ip = ipOption(r.opts, OPT.REQUESTED_IP);
  if (sid !== h.d.serverIp || !ip) return [];
  h.d.table.decline(r.mac, ip, h.d.now() + DECLINE_QUARANTINE_S * 1000);
  await h.d.remove(r.mac).catch(() => undefined);
  h.count('declines');
  h.event('dhcp.decline', r, MSG.DECLINE, { ip });
  return [];
}

async function release(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  const mine = h.d.table.get(r.mac);
  if (!mine || mine.ip !== r.pkt.ciaddr) return [];
  const now = h.d.now();
  // Keep the MAC -> address association: the same MAC gets the same address back.
  const doc: LeaseDoc = { ...mine, state: 'released', expires_at: now, updated_at: now };
  h.d.table.set(doc);
  await h.d.persist(doc, false).catch(() => undefined);
  h.count('releases');
  h.event('dhcp.release', r, MSG.RELEASE, { ip: doc.ip });
  return [];
}

/** RFC 2131 4.3.5: INFORM gets configuration but no address and no lease times, sent to ciaddr. */
async function inform(h: DhcpHandler, r: Request): Promise<Outgoing[]> {
  const pool = pickPool(h, r);
  if (!pool || r.pkt.ciaddr === ZERO) return [];
  const out = await reply(h, r, MSG.ACK, ZERO, pool, false);
  h.count('informs');
  h.event('dhcp.inform', r, MSG.INFORM, { ip: r.pkt.ciaddr });
  return [out];
}
