/**
 * The in-memory lease table of the full server: pools, reservations, offers,
 * bindings, quarantine (DECLINE), expiry. Decisions are synchronous so two
 * interleaved requests never get one address; persistence is the caller's
 * job (`lease-store.ts`). Keyed on chaddr (PXE-NOTES: firmware, iPXE and the
 * OS send different client identifiers for one NIC).
 */
import { intToIp, ipToInt, prefixMask } from '../net/ipv4.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { DEFAULT_ENTRIES, NumberIndex } from '../core/number-index.ts';
import { IdSlots, LeaseSlots } from '../store/lease-slots.ts';

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
  /**
   * The leases as numbers in typed arrays (store/lease-slots.ts), indexed by MAC and by address off V8's heap: a
   * lease kept as objects was what every scavenge under load copied (docs/perf/changes.md, "Leases off the heap").
   */
  private readonly leases: LeaseSlots;
  private readonly byMac: IdSlots;
  private readonly byIp: NumberIndex;
  /** The lease an offer replaced (a released or expired one of the same MAC), by the offer's slot: restored when the offer is dropped. */
  private readonly replaced = new Map<number, LeaseDoc>();
  private readonly quarantine = new Map<number, number>();
  private readonly cursor = new Map<string, number>();

  /**
   * @param entries leases the table makes room for up front (core/number-index.ts DEFAULT_ENTRIES); the warm start's
   *   tables take a handful, so that its few leases meet the collisions and rebuilds a real table meets later.
   */
  constructor(
    private readonly reservations: ReservationSource = fixedReservations([]),
    entries = DEFAULT_ENTRIES,
  ) {
    this.leases = new LeaseSlots(entries);
    this.byMac = new IdSlots(entries);
    this.byIp = new NumberIndex(entries);
  }

  private reservedFor(ip: number): string | null {
    return this.reservations.macForReservedIp(intToIp(ip));
  }

  /** Load persisted leases (store -> memory at start). */
  load(docs: readonly LeaseDoc[]): void {
    for (const d of docs) {
      const n = ipToInt(d.ip);
      if (n === null || d.state === 'declined') continue;
      this.put(d, n);
    }
  }

  /** The lease (any state) of a MAC, as a new document (an offer carries the lease it replaced as `previous`). */
  get(mac: string): LeaseDoc | null {
    const s = this.byMac.get(mac);
    if (s < 0) return null;
    const d = this.leases.doc(s);
    const prev = this.replaced.get(s);
    if (prev) d.previous = prev;
    return d;
  }

  /** The MAC holding an address, if any. */
  holderOf(ip: string): string | null {
    const n = ipToInt(ip);
    const s = n === null ? -1 : this.byIp.get(n);
    return s < 0 ? null : this.leases.macText(s);
  }

  /** The reservation of a MAC. */
  reservation(mac: string): Reservation | null {
    return this.reservations.reservationFor(mac);
  }

  /** Number of leases in memory, by state. */
  counts(now: number): Record<string, number> {
    const c: Record<string, number> = { bound: 0, offered: 0, other: 0 };
    for (const s of this.leases.slots()) {
      const live = this.leases.expiresOf(s) > now;
      const state = this.leases.stateOf(s);
      if (state === 'bound' && live) c.bound = (c.bound ?? 0) + 1;
      else if (state === 'offered' && live) c.offered = (c.offered ?? 0) + 1;
      else c.other = (c.other ?? 0) + 1;
    }
    return c;
  }

  /** True when the lease in slot `s` holds its address now (a live offer or binding); a released or expired one does not. */
  private holds(s: number, now: number): boolean {
    const state = this.leases.stateOf(s);
    return (state === 'bound' || state === 'offered') && this.leases.expiresOf(s) > now;
  }

  /** True when `mac` may take `ip` in `pool` right now. */
  available(pool: Pool, mac: string, ip: number, now: number): boolean {
    if (!inPoolSubnet(pool, ip)) return false;
    const res = this.reservedFor(ip);
    if (res !== null) return res === mac;
    if (ip < pool.start || ip > pool.end) return false;
    const q = this.quarantine.get(ip);
    if (q !== undefined && q > now) return false;
    const s = this.byIp.get(ip);
    if (s < 0 || s === this.byMac.get(mac)) return true;
    return !this.holds(s, now);
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
    const prevIp = prev >= 0 ? this.leases.ipOf(prev) : -1;
    if (prevIp >= 0 && this.available(pool, mac, prevIp, now)) return intToIp(prevIp);
    const req = requested ? ipToInt(requested) : null;
    if (req !== null && this.available(pool, mac, req, now) && this.byIp.get(req) < 0) return intToIp(req);
    const size = pool.end - pool.start + 1;
    let c = this.cursor.get(pool.name) ?? pool.start;
    for (let i = 0; i < size; i++) {
      const ip = c;
      c = c >= pool.end ? pool.start : c + 1;
      if (this.byIp.get(ip) < 0 && this.available(pool, mac, ip, now)) {
        this.cursor.set(pool.name, c);
        return intToIp(ip);
      }
    }
    let best: { ip: number; exp: number } | null = null;
    for (const [ip, s] of this.byIp.entries()) {
      if (ip < pool.start || ip > pool.end || this.reservedFor(ip) !== null) continue;
      const q = this.quarantine.get(ip);
      if (q !== undefined && q > now) continue;
      const state = this.leases.stateOf(s);
      const exp = this.leases.expiresOf(s);
      const dead = state === 'released' || state === 'expired' || exp <= now;
      if (dead && (!best || exp < best.exp)) best = { ip, exp };
    }
    return best ? intToIp(best.ip) : null;
  }

  /** Record a lease (offer or binding) and return the doc to persist, plus the MAC it took the address from. */
  set(doc: LeaseDoc): { evicted: string | null } {
    const n = ipToInt(doc.ip) as number;
    const mine = this.byMac.get(doc.mac);
    if (mine >= 0) {
      const pn = this.leases.ipOf(mine);
      if (pn !== n && pn >= 0 && this.byIp.get(pn) === mine) this.byIp.delete(pn);
    }
    const holder = this.byIp.get(n);
    let evicted: string | null = null;
    if (holder >= 0 && holder !== mine) {
      evicted = this.leases.macText(holder);
      this.drop(holder);
    }
    this.put(doc, n);
    return { evicted };
  }

  /** Store `doc` (its address `n`) as its MAC's lease, in the slot the MAC had, and index it. */
  private put(doc: LeaseDoc, n: number): void {
    let d = doc;
    const previous = doc.previous;
    if (previous !== undefined) {
      d = { ...doc };
      delete d.previous;
    }
    let s = this.byMac.get(d.mac);
    if (s >= 0) this.leases.replace(s, d);
    else this.byMac.set(d.mac, (s = this.leases.add(d)));
    if (previous) this.replaced.set(s, previous as LeaseDoc);
    else this.replaced.delete(s);
    this.byIp.set(n, s);
  }

  /** Forget the lease in slot `s` (its MAC's entry; its address entry when it still points here). */
  private drop(s: number): void {
    this.byMac.delete(this.leases.macText(s));
    const n = this.leases.ipOf(s);
    if (n >= 0 && this.byIp.get(n) === s) this.byIp.delete(n);
    this.replaced.delete(s);
    this.leases.remove(s);
  }

  /** RFC 2131 4.3.3: a declined address is in use by something else; keep it out of the pool for a while. */
  decline(mac: string, ip: string, until: number): void {
    const n = ipToInt(ip);
    if (n === null) return;
    this.quarantine.set(n, until);
    const s = this.byMac.get(mac);
    if (s < 0) return;
    if (this.leases.ipText(s) === ip) this.drop(s);
    else if (this.byIp.get(n) === s) this.byIp.delete(n);
  }

  /** Drop an unaccepted offer (the client chose another server). */
  dropOffer(mac: string): void {
    const s = this.byMac.get(mac);
    if (s < 0 || this.leases.stateOf(s) !== 'offered') return;
    const prev = this.replaced.get(s);
    this.drop(s);
    // The offer replaced a released/expired lease of this MAC: keep that association.
    const pn = prev ? ipToInt(prev.ip) : null;
    if (prev && pn !== null && this.byIp.get(pn) < 0) this.put(prev, pn);
  }

  /** Leases whose time ran out, marked expired (returned for persistence). */
  sweep(now: number): LeaseDoc[] {
    const out: LeaseDoc[] = [];
    for (const s of this.leases.slots()) {
      if (this.leases.expiresOf(s) > now) continue;
      const state = this.leases.stateOf(s);
      if (state === 'offered') this.dropOffer(this.leases.macText(s));
      else if (state === 'bound') {
        const e: LeaseDoc = { ...this.leases.doc(s), state: 'expired', updated_at: now };
        this.leases.replace(s, e);
        out.push(e);
      }
    }
    for (const [ip, until] of this.quarantine) if (until <= now) this.quarantine.delete(ip);
    return out;
  }
}
