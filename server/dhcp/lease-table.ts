/**
 * The in-memory lease table of the full server: pools, reservations, offers,
 * bindings, quarantine (DECLINE), expiry. Decisions are synchronous so two
 * interleaved requests never get one address; persistence is the caller's
 * job (`lease-store.ts`). Keyed on chaddr (PXE-NOTES: firmware, iPXE and the
 * OS send different client identifiers for one NIC).
 */
import { intToIp, ipToInt, prefixMask } from '../net/ipv4.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { ShardedMap } from '../core/sharded-map.ts';

/** One address pool: a range inside a subnet, chosen by giaddr or the local NIC. */
export interface Pool {
  name: string;
  /** First and last address of the range (integers). */
  start: number;
  end: number;
  /** The subnet the range lives in. */
  network: number;
  prefix: number;
}

/** A reservation: this MAC always gets this address. */
export interface Reservation {
  mac: string;
  ip: string;
  hostname: string | null;
}

/**
 * Where the table reads reservations, live on every decision (the store-backed
 * service in reservations.ts), so a change takes effect without a restart.
 */
export interface ReservationSource {
  reservationFor(mac: string): Reservation | null;
  macForReservedIp(ip: string): string | null;
}

/** A fixed list of reservations (tests, tools). */
export function fixedReservations(list: readonly Reservation[]): ReservationSource {
  const byMac = new Map(list.map((r) => [r.mac, r]));
  const byIp = new Map(list.map((r) => [r.ip, r.mac]));
  return { reservationFor: (mac) => byMac.get(mac) ?? null, macForReservedIp: (ip) => byIp.get(ip) ?? null };
}

/** Make a pool from dotted quads; the subnet comes from `prefix`. */
export function makePool(name: string, start: string, end: string, prefix: number): Pool {
  const s = ipToInt(start);
  const e = ipToInt(end);
  if (s === null || e === null || s > e) throw new RangeError(`bad range ${start}-${end}`);
  return { name, start: s, end: e, network: (s & prefixMask(prefix)) >>> 0, prefix };
}

/** True when `ip` is in the pool's subnet. */
export function inPoolSubnet(pool: Pool, ip: number): boolean {
  return (ip & prefixMask(pool.prefix)) >>> 0 === pool.network;
}

/** The pool whose subnet holds `ip` (RFC 2131 4.3.1: giaddr selects the subnet). */
export function poolFor(pools: readonly Pool[], ip: string): Pool | null {
  const n = ipToInt(ip);
  if (n === null) return null;
  return pools.find((p) => inPoolSubnet(p, n)) ?? null;
}

/** Leases, offers and quarantined addresses in memory. */
export class LeaseTable {
  /** In shards: a plain Map's growth stalls the server for ms at a time (core/sharded-map.ts). */
  private readonly byMac = new ShardedMap<string, LeaseDoc>();
  private readonly byIp = new ShardedMap<number, string>();
  private readonly quarantine = new Map<number, number>();
  private readonly cursor = new Map<string, number>();

  constructor(private readonly reservations: ReservationSource = fixedReservations([])) {}

  private reservedFor(ip: number): string | null {
    return this.reservations.macForReservedIp(intToIp(ip));
  }

  /** Load persisted leases (store -> memory at start). */
  load(docs: readonly LeaseDoc[]): void {
    for (const d of docs) {
      const n = ipToInt(d.ip);
      if (n === null || d.state === 'declined') continue;
      this.byMac.set(d.mac, d);
      this.byIp.set(n, d.mac);
    }
  }

  /** The lease (any state) of a MAC. */
  get(mac: string): LeaseDoc | null {
    return this.byMac.get(mac) ?? null;
  }

  /** The MAC holding an address, if any. */
  holderOf(ip: string): string | null {
    const n = ipToInt(ip);
    return n === null ? null : (this.byIp.get(n) ?? null);
  }

  /** The reservation of a MAC. */
  reservation(mac: string): Reservation | null {
    return this.reservations.reservationFor(mac);
  }

  /** Number of leases in memory, by state. */
  counts(now: number): Record<string, number> {
    const c: Record<string, number> = { bound: 0, offered: 0, other: 0 };
    for (const d of this.byMac.values()) {
      const live = d.expires_at > now;
      if (d.state === 'bound' && live) c.bound = (c.bound ?? 0) + 1;
      else if (d.state === 'offered' && live) c.offered = (c.offered ?? 0) + 1;
      else c.other = (c.other ?? 0) + 1;
    }
    return c;
  }

  /** True when `mac` may take `ip` in `pool` right now. */
  available(pool: Pool, mac: string, ip: number, now: number): boolean {
    if (!inPoolSubnet(pool, ip)) return false;
    const res = this.reservedFor(ip);
    if (res !== null) return res === mac;
    if (ip < pool.start || ip > pool.end) return false;
    const q = this.quarantine.get(ip);
    if (q !== undefined && q > now) return false;
    const holder = this.byIp.get(ip);
    if (holder === undefined || holder === mac) return true;
    const d = this.byMac.get(holder);
    if (!d) return true;
    // Another client's live offer or binding blocks it; a released or expired one does not.
    return !((d.state === 'bound' || d.state === 'offered') && d.expires_at > now);
  }

  /**
   * Choose an address for `mac` (RFC 2131 4.3.1 order): reservation, its
   * previous address, the requested address, a never-used address, and only
   * then the longest-expired address of another client. Null: pool exhausted.
   */
  choose(pool: Pool, mac: string, requested: string | null, now: number): string | null {
    const res = this.reservations.reservationFor(mac);
    const resIp = res ? ipToInt(res.ip) : null;
    if (resIp !== null && inPoolSubnet(pool, resIp)) return intToIp(resIp);
    const prev = this.byMac.get(mac);
    const prevIp = prev ? ipToInt(prev.ip) : null;
    if (prevIp !== null && this.available(pool, mac, prevIp, now)) return intToIp(prevIp);
    const req = requested ? ipToInt(requested) : null;
    if (req !== null && this.available(pool, mac, req, now) && this.byIp.get(req) === undefined) return intToIp(req);
    const size = pool.end - pool.start + 1;
    let c = this.cursor.get(pool.name) ?? pool.start;
    for (let i = 0; i < size; i++) {
      const ip = c;
      c = c >= pool.end ? pool.start : c + 1;
      if (this.byIp.get(ip) === undefined && this.available(pool, mac, ip, now)) {
        this.cursor.set(pool.name, c);
        return intToIp(ip);
      }
    }
    let best: { ip: number; exp: number } | null = null;
    for (const [ip, holder] of this.byIp) {
      const d = this.byMac.get(holder);
      if (!d || ip < pool.start || ip > pool.end || this.reservedFor(ip) !== null) continue;
      const q = this.quarantine.get(ip);
      if (q !== undefined && q > now) continue;
      const dead = d.state === 'released' || d.state === 'expired' || d.expires_at <= now;
      if (dead && (!best || d.expires_at < best.exp)) best = { ip, exp: d.expires_at };
    }
    return best ? intToIp(best.ip) : null;
  }

  /** Record a lease (offer or binding) and return the doc to persist, plus the MAC it took the address from. */
  set(doc: LeaseDoc): { evicted: string | null } {
    const n = ipToInt(doc.ip) as number;
    const prev = this.byMac.get(doc.mac);
    if (prev && prev.ip !== doc.ip) {
      const pn = ipToInt(prev.ip);
      if (pn !== null && this.byIp.get(pn) === doc.mac) this.byIp.delete(pn);
    }
    const holder = this.byIp.get(n);
    let evicted: string | null = null;
    if (holder !== undefined && holder !== doc.mac) {
      this.byMac.delete(holder);
      evicted = holder;
    }
    this.byMac.set(doc.mac, doc);
    this.byIp.set(n, doc.mac);
    return { evicted };
  }

  /** RFC 2131 4.3.3: a declined address is in use by something else; keep it out of the pool for a while. */
  decline(mac: string, ip: string, until: number): void {
    const n = ipToInt(ip);
    if (n === null) return;
    this.quarantine.set(n, until);
    if (this.byIp.get(n) === mac) this.byIp.delete(n);
    const d = this.byMac.get(mac);
    if (d && d.ip === ip) this.byMac.delete(mac);
  }

  /** Drop an unaccepted offer (the client chose another server). */
  dropOffer(mac: string): void {
    const d = this.byMac.get(mac);
    if (!d || d.state !== 'offered') return;
    this.byMac.delete(mac);
    const n = ipToInt(d.ip);
    if (n !== null && this.byIp.get(n) === mac) this.byIp.delete(n);
    // The offer replaced a released/expired lease of this MAC: keep that association.
    const prev = d.previous as LeaseDoc | undefined;
    const pn = prev ? ipToInt(prev.ip) : null;
    if (prev && pn !== null && this.byIp.get(pn) === undefined) {
      this.byMac.set(mac, prev);
      this.byIp.set(pn, mac);
    }
  }

  /** Leases whose time ran out, marked expired (returned for persistence). */
  sweep(now: number): LeaseDoc[] {
    const out: LeaseDoc[] = [];
    for (const [mac, d] of this.byMac) {
      if (d.expires_at > now) continue;
      if (d.state === 'offered') this.dropOffer(mac);
      else if (d.state === 'bound') {
        const e: LeaseDoc = { ...d, state: 'expired', updated_at: now };
        this.byMac.set(mac, e);
        out.push(e);
      }
    }
    for (const [ip, until] of this.quarantine) if (until <= now) this.quarantine.delete(ip);
    return out;
  }
}
