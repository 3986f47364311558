/**
 * Full DHCP server decisions (RFC 2131 4.3): DISCOVER -> OFFER; REQUEST in
 * every client state -> ACK/NAK/silence; DECLINE, RELEASE, INFORM. An ACKed
 * lease is on disk (group-committed fdatasync) before the ACK is returned.
 */
import { ipToInt, prefixToNetmask, intToIp, prefixMask } from '../net/ipv4.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { OPTIONS, MSG, option, readOption } from './options.ts';
import { buildReply, clientIdToEcho, clientUnicastAddress, relayInfoToEcho, replyTarget } from './reply.ts';
import { inPoolSubnet, poolFor, type Pool } from './lease-table.ts';
import { bootOptions } from './boot-options.ts';
import { isRelayed, type Request } from './request.ts';
import { DECLINE_QUARANTINE_S, OFFER_HOLD_S, REBINDING_FRACTION, RENEWAL_FRACTION } from './defaults.ts';
import type { FullContext, Outgoing } from './context.ts';

const ZERO = '0.0.0.0';

/** Dispatch one request by message type. */
export async function handleFull(c: FullContext, r: Request): Promise<Outgoing[]> {
  switch (r.type) {
    case MSG.DISCOVER:
      return discover(c, r);
    case MSG.REQUEST:
      return request(c, r);
    case MSG.DECLINE:
      return decline(c, r);
    case MSG.RELEASE:
      return release(c, r);
    case MSG.INFORM:
      return inform(c, r);
    default:
      c.count('ignored_type');
      return [];
  }
}

/** RFC 2131 4.3.1: the pool is chosen by giaddr when relayed, else by the NIC's own subnet. */
function pickPool(c: FullContext, r: Request): Pool | null {
  const p = poolFor(c.pools, isRelayed(r) ? r.pkt.giaddr : c.serverIp);
  if (!p) c.count('no_pool');
  return p;
}

/**
 * The options of a reply depend only on the context, the message type, the pool and whether lease times
 * go in, unless a reservation names a host: built once per combination (every OFFER and ACK used to encode
 * them again). Callers get a copy they may extend.
 */
const optionCache = new WeakMap<FullContext, Map<Pool, Map<number, [number, Uint8Array][]>>>();

/** Options every address-carrying reply gets (RFC 2131 4.3.1 table 3), then the operator's extras. */
function leaseOptions(c: FullContext, msg: number, pool: Pool, withTimes: boolean, hostname: string | null): [number, Uint8Array][] {
  if (hostname) return buildLeaseOptions(c, msg, pool, withTimes, hostname);
  let byPool = optionCache.get(c);
  if (!byPool) optionCache.set(c, (byPool = new Map()));
  let byKind = byPool.get(pool);
  if (!byKind) byPool.set(pool, (byKind = new Map()));
  const key = msg * 2 + (withTimes ? 1 : 0);
  let o = byKind.get(key);
  if (!o) byKind.set(key, (o = buildLeaseOptions(c, msg, pool, withTimes, null)));
  return o.slice();
}

function buildLeaseOptions(c: FullContext, msg: number, pool: Pool, withTimes: boolean, hostname: string | null): [number, Uint8Array][] {
  const o: [number, Uint8Array][] = [option(OPTIONS.MESSAGE_TYPE, msg), option(OPTIONS.SERVER_ID, c.serverIp)];
  if (withTimes) {
    const t = c.leaseS;
    o.push(
      option(OPTIONS.LEASE_TIME, t),
      option(OPTIONS.RENEWAL_T1, Math.floor(t * RENEWAL_FRACTION)),
      option(OPTIONS.REBINDING_T2, Math.floor(t * REBINDING_FRACTION)),
    );
  }
  o.push(option(OPTIONS.SUBNET_MASK, prefixToNetmask(pool.prefix)));
  o.push(option(OPTIONS.BROADCAST, intToIp((pool.network | ~prefixMask(pool.prefix)) >>> 0)));
  // On the appliance's own (isolated) subnet it is the nominal gateway and name server: installers such
  // as Debian's stop and ask for a router and name servers when DHCP gives none, before any preseed is
  // read. Everything nodes fetch is addressed by IP, so nothing depends on routing or DNS answers.
  const server = ipToInt(c.serverIp);
  if (server !== null && (server & prefixMask(pool.prefix)) >>> 0 === pool.network >>> 0) {
    o.push(option(OPTIONS.ROUTER, [c.serverIp]), option(OPTIONS.DNS, [c.serverIp]));
  }
  if (hostname) o.push(option(OPTIONS.HOSTNAME, hostname));
  // Operator options replace a default of the same code (e.g. a real router for 3) or are appended.
  for (const [code, data] of c.extraOptions) {
    const i = o.findIndex(([k]) => k === code);
    if (i >= 0) o[i] = [code, data];
    else o.push([code, data]);
  }
  return o;
}

/** Build an address-carrying reply; `unicastTo`: the checked client address it goes to (`clientUnicastAddress`), else broadcast. */
async function reply(
  c: FullContext,
  r: Request,
  msg: number,
  yiaddr: string,
  pool: Pool,
  withTimes: boolean,
  unicastTo: string | null,
): Promise<[Outgoing, string | null]> {
  const res = c.table.reservation(r.mac);
  const options = leaseOptions(c, msg, pool, withTimes, res?.hostname ?? null);
  let file = '';
  let siaddr = ZERO;
  const choice = await c.bootChoice(r);
  if (choice) {
    file = choice.file;
    siaddr = c.serverIp; // TFTP server for loaders; ${next-server} for an embedded iPXE script
    // Full mode: the offer carries the file, so PXE firmware skips discovery (43/6 = 8).
    options.push(...bootOptions(r, choice, choice.kind === 'tftp' && r.facts.pxe && !r.facts.ipxe, true));
  }
  const maxMessage = readOption(r.opts, OPTIONS.MAX_MESSAGE);
  const buf = buildReply(r.pkt, { yiaddr, siaddr, file, options }, relayInfoToEcho(r.pkt, r.opts), maxMessage, clientIdToEcho(r.opts));
  return [{ buf, to: replyTarget(r.pkt, false, unicastTo) }, file || null];
}

async function discover(c: FullContext, r: Request): Promise<Outgoing[]> {
  c.report('dhcp.discover', r, MSG.DISCOVER);
  const pool = pickPool(c, r);
  if (!pool) return [];
  const now = c.now();
  const requested = readOption(r.opts, OPTIONS.REQUESTED_IP);
  let ip: string | null = null;
  for (let tries = 0; tries < 3; tries++) {
    ip = c.table.choose(pool, r.mac, requested, now);
    if (!ip || !c.conflictCheck || c.table.get(r.mac)?.ip === ip || c.table.reservation(r.mac)?.ip === ip) break;
    if (!(await c.conflictCheck(ip))) break;
    // Something answers on that address: treat like a DECLINE (RFC 2131 4.4.1).
    c.count('conflicts');
    c.table.decline('', ip, now + DECLINE_QUARANTINE_S * 1000);
    ip = null;
  }
  if (!ip) {
    c.count('exhausted');
    c.log.warn({ pool: pool.name, mac: r.mac }, 'dhcp: pool exhausted');
    return [];
  }
  const prev = c.table.get(r.mac);
  if (!(prev && prev.ip === ip && prev.state === 'bound' && prev.expires_at > now)) {
    const offer = leaseDoc(r, ip, pool, 'offered', now + OFFER_HOLD_S * 1000, now);
    if (prev && prev.state !== 'offered') offer.previous = prev; // in memory only: offers are not written
    c.table.set(offer);
  }
  // RFC 2131 4.1, table 5: a DISCOVER's ciaddr MUST be 0; whatever it says, the OFFER is broadcast (or goes to the relay).
  const [out, file] = await reply(c, r, MSG.OFFER, ip, pool, true, null);
  c.count('offers');
  c.report('dhcp.offer', r, MSG.OFFER, { ip, file });
  return [out];
}

/**
 * A lease document. The table and the lease file keep it as numbers (store/lease-slots.ts), so nothing of this
 * object outlives the exchange.
 */
function leaseDoc(r: Request, chosen: string, pool: Pool, state: LeaseDoc['state'], expires: number, now: number): LeaseDoc {
  const cid = r.opts.get(OPTIONS.CLIENT_ID.code);
  return {
    _id: r.mac,
    mac: r.mac,
    ip: chosen,
    state,
    expires_at: expires,
    pool: pool.name,
    hostname: readOption(r.opts, OPTIONS.HOSTNAME),
    client_id: cid ? Buffer.from(cid).toString('hex') : null,
    updated_at: now,
    arch: r.facts.arch,
  };
}

/** RFC 2131 4.3.2: which state the client is in decides what it asks for. */
async function request(c: FullContext, r: Request): Promise<Outgoing[]> {
  c.report('dhcp.request', r, MSG.REQUEST);
  const sid = readOption(r.opts, OPTIONS.SERVER_ID);
  const requested = readOption(r.opts, OPTIONS.REQUESTED_IP);
  // RENEWING (unicast) or REBINDING (broadcast): no 54, no 50, the address the client holds in ciaddr. In SELECTING and
  // INIT-REBOOT ciaddr MUST be 0 (RFC 2131 4.3.2, table 5): it is not read there, neither as the address nor as where
  // the reply goes.
  const renewing = sid === null && requested === null && r.pkt.ciaddr !== ZERO;
  let ip: string | null;
  if (sid !== null) {
    // SELECTING: the client chose a server; if not us, our offer is void.
    if (sid !== c.serverIp) {
      c.table.dropOffer(r.mac);
      c.count('chose_other_server');
      return [];
    }
    ip = requested;
  } else if (requested !== null) {
    ip = requested; // INIT-REBOOT
  } else {
    ip = renewing ? r.pkt.ciaddr : null;
  }
  const pool = pickPool(c, r);
  if (!pool) return [];
  if (ip === null) return nak(c, r, pool, 'REQUEST names no address');
  const n = ipToInt(ip);
  if (n === null || !inPoolSubnet(pool, n)) return nak(c, r, pool, `${ip} is not on this network`);
  // RFC 2131 4.3.2 (INIT-REBOOT): "If the DHCP server has no record of this client, then it MUST remain
  // silent". The same for RENEWING/REBINDING: a MAC we never leased to may not allocate an address of
  // its choosing without DISCOVER/OFFER (a rack machine could otherwise take any free address).
  if (sid === null && !c.table.get(r.mac) && !c.table.reservation(r.mac)) {
    c.count('unknown_client_request');
    return [];
  }
  // A reservation set or moved while the client held another address takes effect at its next
  // renewal: the NAK sends it back to DISCOVER, which offers the reserved address.
  const reserved = c.table.reservation(r.mac);
  const reservedIp = reserved ? ipToInt(reserved.ip) : null;
  if (reserved && reservedIp !== null && inPoolSubnet(pool, reservedIp) && reserved.ip !== ip)
    return nak(c, r, pool, `${r.mac} is reserved ${reserved.ip}`);
  const now = c.now();
  const mine = c.table.get(r.mac);
  // RFC 2131 4.3.2: a REQUEST in SELECTING answers our OFFER. Without one outstanding to this chaddr for this address
  // (a live offer, or the live binding a returning client was offered again), it binds nothing and gets a NAK: a MAC
  // that never sent a DISCOVER cannot take an address of its choosing for a whole lease, and a real client whose
  // offer lapsed (60 s, or a restart: offers are not written) goes back to DISCOVER at once.
  if (sid !== null && !(mine && mine.ip === ip && (mine.state === 'offered' || mine.state === 'bound') && mine.expires_at > now)) {
    c.count('no_offer');
    return nak(c, r, pool, `${ip} was not offered to ${r.mac}`);
  }
  if (mine && mine.ip !== ip && mine.state === 'bound' && mine.expires_at > now)
    return nak(c, r, pool, `${r.mac} holds ${mine.ip}, not ${ip}`);
  if (!c.table.available(pool, r.mac, n, now)) return nak(c, r, pool, `${ip} is not available to ${r.mac}`);
  const doc = leaseDoc(r, ip, pool, 'bound', now + c.leaseS * 1000, now);
  const { evicted } = c.table.set(doc);
  if (evicted) void c.remove(evicted).catch(() => undefined);
  try {
    await c.persist(doc, true);
  } catch (e) {
    c.count('store_errors');
    c.log.error({ err: e, mac: r.mac }, 'dhcp: lease not written; ACK withheld');
    return [];
  }
  // Unicast only to a renewing client's own address (ip is its ciaddr then).
  const to = clientUnicastAddress(r.pkt.ciaddr, r.from.address, renewing, inPoolSubnet(pool, n));
  const [out, file] = await reply(c, r, MSG.ACK, ip, pool, true, to);
  c.count('acks');
  c.report('dhcp.ack', r, MSG.ACK, { ip, file, lease_s: c.leaseS });
  return [out];
}

function nak(c: FullContext, r: Request, pool: Pool, why: string): Outgoing[] {
  // RFC 2131 4.3.2 table 3: a NAK carries 53, 54 and a message; no address, no boot info.
  const options: [number, Uint8Array][] = [
    option(OPTIONS.MESSAGE_TYPE, MSG.NAK),
    option(OPTIONS.SERVER_ID, c.serverIp),
    option(OPTIONS.MESSAGE, why),
  ];
  const req = { ...r.pkt, ciaddr: ZERO };
  const buf = buildReply(
    req,
    { yiaddr: ZERO, siaddr: ZERO, file: '', options },
    relayInfoToEcho(r.pkt, r.opts),
    null,
    clientIdToEcho(r.opts),
  );
  c.count('naks');
  c.report('dhcp.nak', r, MSG.NAK, { reason: why, pool: pool.name });
  return [{ buf, to: replyTarget(r.pkt, true, null) }];
}

async function decline(c: FullContext, r: Request): Promise<Outgoing[]> {
  const sid = readOption(r.opts, OPTIONS.SERVER_ID);
  const ip = readOption(r.opts, OPTIONS.REQUESTED_IP);
  if (sid !== c.serverIp || !ip) return [];
  // RFC 2131 4.3.3: a client declines the address we gave it. Any other address is not its to
  // quarantine: a rack machine could otherwise take every free address out of the pool for 10 minutes.
  if (c.table.get(r.mac)?.ip !== ip) {
    c.count('decline_ignored');
    return [];
  }
  c.table.decline(r.mac, ip, c.now() + DECLINE_QUARANTINE_S * 1000);
  await c.remove(r.mac).catch(() => undefined);
  c.count('declines');
  c.report('dhcp.decline', r, MSG.DECLINE, { ip });
  return [];
}

async function release(c: FullContext, r: Request): Promise<Outgoing[]> {
  const mine = c.table.get(r.mac);
  if (!mine || mine.ip !== r.pkt.ciaddr) return [];
  const now = c.now();
  // Keep the MAC -> address association: the same MAC gets the same address back.
  const doc: LeaseDoc = { ...mine, state: 'released', expires_at: now, updated_at: now };
  c.table.set(doc);
  await c.persist(doc, false).catch(() => undefined);
  c.count('releases');
  c.report('dhcp.release', r, MSG.RELEASE, { ip: doc.ip });
  return [];
}

/**
 * RFC 2131 4.3.5: INFORM gets configuration but no address and no lease times, sent to ciaddr. The server SHOULD check
 * the address for consistency: one outside the subnet of the pool it would answer from gets nothing, and the ACK is
 * unicast only to a ciaddr that is the datagram's own source (`clientUnicastAddress`), broadcast otherwise.
 */
async function inform(c: FullContext, r: Request): Promise<Outgoing[]> {
  const pool = pickPool(c, r);
  if (!pool || r.pkt.ciaddr === ZERO) return [];
  const n = ipToInt(r.pkt.ciaddr);
  if (n === null || !inPoolSubnet(pool, n)) {
    c.count('inform_ignored');
    return [];
  }
  const [out] = await reply(
    c,
    r,
    MSG.ACK,
    ZERO,
    pool,
    false,
    clientUnicastAddress(r.pkt.ciaddr, r.from.address, true, inPoolSubnet(pool, n)),
  );
  c.count('informs');
  c.report('dhcp.inform', r, MSG.INFORM, { ip: r.pkt.ciaddr });
  return [out];
}
