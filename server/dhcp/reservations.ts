/**
 * DHCP reservations: per-node runtime data (MAC -> address, optional host name)
 * in the store's `reservations` collection, edited by the admin API (and later the
 * rack manifest and the UI). The lease table reads them live through
 * `ReservationSource`, so a change takes effect at the client's next DISCOVER or
 * REQUEST without a restart. Every change is validated, fsync'ed, then applied.
 */
import type { Collection } from '../store/collection.ts';
import type { ReservationDoc } from '../store/docs.ts';
import type { EventSink } from '../events/event-log.ts';
import { ccError } from '../errors/cc-error.ts';
import { intToIp, ipToInt, prefixMask } from '../net/ipv4.ts';
import { inPoolSubnet, type Pool, type Reservation, type ReservationSource } from './lease-table.ts';

/** What a reservation is checked against; read on every change because Setup can swap the config. */
export interface ReservationScope {
  /** The pools full mode serves now (none in proxy/off mode). */
  pools: readonly Pool[];
  /** The appliance's own address (never reservable). */
  serverIp: string | null;
  /** The MAC holding a live lease on `ip`, if any. */
  leasedTo(ip: string): Promise<string | null>;
}

/** Canonical MAC (`aa:bb:cc:dd:ee:ff`) from `aa:bb..`, `AA-BB-..`; null when it is not a unicast Ethernet MAC. */
export function canonicalMac(s: string): string | null {
  const t = s.trim().toLowerCase().replace(/-/g, ':');
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(t)) return null;
  // IEEE 802: bit 0 of the first octet marks group (multicast/broadcast) addresses; no NIC boots from one.
  if (parseInt(t.slice(0, 2), 16) & 1 || t === '00:00:00:00:00:00') return null;
  return t;
}

/** Host names a reservation may hand out (option 12): lowercase DNS labels only (docs/identity.md rule 4). */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The reservation store and its in-memory index. */
export class ReservationService implements ReservationSource {
  private readonly byMac = new Map<string, ReservationDoc>();
  private readonly byIp = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly col: Collection<ReservationDoc>,
    private readonly scope: () => ReservationScope,
    private readonly events: EventSink,
    private readonly now: () => number,
  ) {}

  /** Load every reservation. */
  static async open(
    col: Collection<ReservationDoc>,
    scope: () => ReservationScope,
    events: EventSink,
    now = Date.now,
  ): Promise<ReservationService> {
    const s = new ReservationService(col, scope, events, now);
    for (const d of await col.find({})) s.index(d);
    return s;
  }

  private index(d: ReservationDoc): void {
    this.byMac.set(d.mac, d);
    this.byIp.set(d.ip, d.mac);
  }

  private unindex(mac: string): void {
    const d = this.byMac.get(mac);
    if (!d) return;
    this.byMac.delete(mac);
    if (this.byIp.get(d.ip) === mac) this.byIp.delete(d.ip);
  }

  /** Every reservation, sorted by address. */
  list(): Reservation[] {
    return [...this.byMac.values()].sort((a, b) => (ipToInt(a.ip) ?? 0) - (ipToInt(b.ip) ?? 0)).map(view);
  }

  /** The reservation of a MAC (canonical form), or null. */
  reservationFor(mac: string): Reservation | null {
    const d = this.byMac.get(mac);
    return d ? view(d) : null;
  }

  /** The MAC an address is reserved for, or null. */
  macForReservedIp(ip: string): string | null {
    return this.byIp.get(ip) ?? null;
  }

  /**
   * Reserve `ip` for `mac` (null removes the reservation). Validated against the
   * served pools and other reservations and leases; on disk before it resolves.
   * Changes are applied one at a time, so two racing requests cannot both take an address.
   */
  setReservation(mac: string, ip: string | null, hostname: string | null = null): Promise<Reservation | null> {
    const run = this.queue.then(() => this.apply(mac, ip, hostname));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(rawMac: string, ip: string | null, hostname: string | null): Promise<Reservation | null> {
    const mac = canonicalMac(rawMac);
    if (!mac) throw ccError('CC_ERR_RESERVATION_INVALID', `"${rawMac}" is not a unicast MAC like aa:bb:cc:dd:ee:ff`);
    if (ip === null) {
      if (!this.byMac.has(mac)) throw ccError('CC_ERR_NOT_FOUND', `no reservation for ${mac}`);
      await this.col.remove({ _id: mac }, { durable: true });
      this.unindex(mac);
      this.events.emit('dhcp.reservation', { mac, message: `Reservation of ${mac} removed`, data: { mac, ip: null } });
      return null;
    }
    await this.check(mac, ip, hostname);
    const doc: ReservationDoc = { _id: mac, mac, ip, hostname, updated_at: this.now() };
    await this.col.put(doc, { durable: true });
    this.unindex(mac);
    this.index(doc);
    this.events.emit('dhcp.reservation', { mac, message: `${mac} reserved ${ip}`, data: { mac, ip, hostname } });
    return view(doc);
  }

  private async check(mac: string, ip: string, hostname: string | null): Promise<void> {
    const n = ipToInt(ip);
    if (n === null) throw ccError('CC_ERR_RESERVATION_INVALID', `"${ip}" is not an IPv4 address`);
    if (hostname !== null && !HOSTNAME.test(hostname))
      throw ccError('CC_ERR_RESERVATION_INVALID', `host name "${hostname}" must be lowercase letters, digits, "-" and "."`);
    const sc = this.scope();
    if (sc.pools.length === 0)
      throw ccError(
        'CC_ERR_RESERVATION_INVALID',
        'full DHCP is not serving, so there is no pool to reserve in (start with --dhcp full --range)',
      );
    const pool = sc.pools.find((p) => inPoolSubnet(p, n));
    if (!pool) {
      const nets = sc.pools.map((p) => `${intToIp(p.network)}/${p.prefix}`).join(', ');
      throw ccError('CC_ERR_RESERVATION_INVALID', `${ip} is outside every served subnet (${nets})`);
    }
    const bcast = (pool.network | ~prefixMask(pool.prefix)) >>> 0;
    if (n === pool.network || n === bcast) throw ccError('CC_ERR_RESERVATION_INVALID', `${ip} is the network or broadcast address`);
    if (ip === sc.serverIp) throw ccError('CC_ERR_RESERVATION_INVALID', `${ip} is the appliance's own address`);
    const holder = this.byIp.get(ip);
    if (holder && holder !== mac) throw ccError('CC_ERR_RESERVATION_CONFLICT', `${ip} is reserved for ${holder}`);
    const leased = await sc.leasedTo(ip);
    if (leased && leased !== mac) throw ccError('CC_ERR_RESERVATION_CONFLICT', `${ip} is leased to ${leased}`);
  }
}

function view(d: ReservationDoc): Reservation {
  return { mac: d.mac, ip: d.ip, hostname: d.hostname };
}
