/**
 * Leases held as numbers in typed arrays, one slot per lease, instead of one object per lease.
 *
 * Why: a DHCP lease lives for hours, and everything of it on V8's heap (the document, its MAC and address strings,
 * its two timestamps as boxed numbers: about 240 bytes) is copied out of the young generation by the first
 * scavenge after it was made. Those copies were most of what a scavenge under load copied, and the scavenge's
 * pause, during which the server answers nothing, grew with them (docs/perf/changes.md, "Leases off the heap").
 * A lease here is a MAC as a 48-bit number, an address as a 32-bit one, a state code, two timestamps and a pool
 * number; a hostname or a client identifier that is not `01` + the MAC (the usual one) is kept as a string.
 *
 * A document of another shape (a field more, another order of fields, a MAC not in canonical form, an address not
 * in dotted-quad form: data written by something else) is kept whole, as given; `doc(slot)` gives back an equal
 * document either way, its fields in the same order. Pure.
 */
import { intToIp, ipToInt } from '../net/ipv4.ts';
import type { LeaseDoc } from './docs.ts';
import { DEFAULT_ENTRIES, NumberIndex } from '../core/number-index.ts';

const STATES: readonly LeaseDoc['state'][] = ['offered', 'bound', 'released', 'declined', 'expired'];
const STATE_CODE = new Map(STATES.map((s, i) => [s, i]));
/** The fields of a lease the DHCP server writes, in its order; `arch` may follow. */
const FIELDS = ['_id', 'mac', 'ip', 'state', 'expires_at', 'pool', 'hostname', 'client_id', 'updated_at'] as const;

/** `flags` bits. */
const LIVE = 1;
/** Kept whole in `whole` (another shape). */
const WHOLE = 2;
/** `client_id` is `01` + the MAC's hex (RFC 2132 9.14, the identifier nearly every client sends). */
const CID_FROM_MAC = 4;
/** `client_id` is null. */
const CID_NULL = 8;
/** The document has an `arch` field (after `updated_at`). */
const HAS_ARCH = 16;

const HEX = '0123456789abcdef';

/** A canonical MAC (`aa:bb:cc:dd:ee:ff`, lowercase) as a number below 2^48, or -1 for any other string. */
export function macToNumber(mac: string): number {
  if (mac.length !== 17) return -1;
  let n = 0;
  for (let i = 0; i < 17; i++) {
    const c = mac.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return -1;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

/** The canonical MAC of a number from `macToNumber`. */
export function numberToMac(n: number): string {
  const hi = Math.floor(n / 0x1000000);
  const lo = n % 0x1000000;
  const b = (v: number, s: number) => HEX[(v >>> (s + 4)) & 15]! + HEX[(v >>> s) & 15]!;
  return `${b(hi, 16)}:${b(hi, 8)}:${b(hi, 0)}:${b(lo, 16)}:${b(lo, 8)}:${b(lo, 0)}`;
}

/** `01` + the MAC's hex digits: the client identifier of a client that sends its hardware address. */
function cidOfMac(mac: string): string {
  return `01${mac.slice(0, 2)}${mac.slice(3, 5)}${mac.slice(6, 8)}${mac.slice(9, 11)}${mac.slice(12, 14)}${mac.slice(15, 17)}`;
}

/**
 * True when `d` has exactly the DHCP server's fields, in its order, with values the slots hold as numbers; `mac` and
 * `ip` are its MAC and address as `macToNumber` and `ipToInt` read them (the caller stores those).
 */
function fits(d: LeaseDoc, mac: number, ip: number | null): boolean {
  let i = 0;
  for (const k in d) {
    if (i < FIELDS.length ? k !== FIELDS[i] : !(i === FIELDS.length && k === 'arch')) return false;
    i++;
  }
  if (i < FIELDS.length) return false;
  return (
    d._id === d.mac &&
    mac >= 0 &&
    ip !== null &&
    intToIp(ip) === d.ip &&
    STATE_CODE.has(d.state) &&
    typeof d.expires_at === 'number' &&
    typeof d.updated_at === 'number' &&
    typeof d.pool === 'string' &&
    (d.hostname === null || typeof d.hostname === 'string') &&
    (d.client_id === null || typeof d.client_id === 'string') &&
    (i === FIELDS.length || d.arch === null || typeof d.arch === 'number')
  );
}

/** Leases in slots; a freed slot is reused. */
export class LeaseSlots {
  private flags = new Uint8Array(0);
  private mac = new Float64Array(0);
  private ip = new Float64Array(0);
  private state = new Uint8Array(0);
  private expires = new Float64Array(0);
  private updated = new Float64Array(0);
  private pool = new Uint16Array(0);
  private arch = new Float64Array(0);
  /** Strings, only for the leases that have them (most have none): by slot, so that no array of the heap grows per lease. */
  private readonly hostnames = new Map<number, string>();
  private readonly clientIds = new Map<number, string>();
  /** Documents of another shape, kept as given, by slot. */
  private readonly whole = new Map<number, LeaseDoc>();
  /**
   * Pool names by number. A Map, not an array: an array literal takes its elements kind from what earlier arrays of
   * its site came to hold, so the lease table made before the DHCP warm start had an array of small integers and the
   * warm start's tables, made after, one of any value; the code V8 optimised on the latter was thrown away at the real
   * table's first lease ("wrong map"; docs/perf/changes.md, "Two deoptimisations at the first real lease").
   */
  private readonly poolNames = new Map<number, string>();
  private readonly poolNo = new Map<string, number>();
  private free: number[] = [];
  /** Slots ever used: live ones are below this. */
  private top = 0;
  private live = 0;

  /** @param entries slots made at the first lease (more are made as needed). */
  constructor(private readonly entries = DEFAULT_ENTRIES) {}

  /** Leases held. */
  get size(): number {
    return this.live;
  }

  /** Store `d` in a new slot; returns the slot. */
  add(d: LeaseDoc): number {
    let s = this.free.pop();
    if (s === undefined) {
      if (this.top === this.flags.length) this.grow();
      s = this.top++;
    }
    this.live++;
    this.write(s, d);
    return s;
  }

  /** Store `d` in slot `s` instead of what it held. */
  replace(s: number, d: LeaseDoc): void {
    this.write(s, d);
  }

  /** Empty slot `s` for reuse. */
  remove(s: number): void {
    if (!(this.flags[s]! & LIVE)) return;
    this.flags[s] = 0;
    this.hostnames.delete(s);
    this.clientIds.delete(s);
    this.whole.delete(s);
    this.free.push(s);
    this.live--;
  }

  /** The lease in slot `s`, as a new document. */
  doc(s: number): LeaseDoc {
    const f = this.flags[s]!;
    if (f & WHOLE) return { ...this.whole.get(s)! };
    const mac = numberToMac(this.mac[s]!);
    const d: LeaseDoc = {
      _id: mac,
      mac,
      ip: intToIp(this.ip[s]!),
      state: STATES[this.state[s]!]!,
      expires_at: this.expires[s]!,
      pool: this.poolNames.get(this.pool[s]!)!,
      hostname: this.hostnames.get(s) ?? null,
      client_id: f & CID_NULL ? null : f & CID_FROM_MAC ? cidOfMac(mac) : this.clientIds.get(s)!,
      updated_at: this.updated[s]!,
    };
    if (f & HAS_ARCH) d.arch = Number.isNaN(this.arch[s]!) ? null : this.arch[s]!;
    return d;
  }

  /** The address of slot `s` as a number, as `ipToInt` reads it (-1 when it reads none). */
  ipOf(s: number): number {
    if (this.flags[s]! & WHOLE) return ipToInt(this.whole.get(s)!.ip) ?? -1;
    return this.ip[s]!;
  }

  /** The address of slot `s` as a number when it is written as that number's dotted quad (no leading zeros), else -1. */
  ipExact(s: number): number {
    if (!(this.flags[s]! & WHOLE)) return this.ip[s]!;
    const ip = this.whole.get(s)!.ip;
    const n = ipToInt(ip);
    return n !== null && intToIp(n) === ip ? n : -1;
  }

  /** The address of slot `s` as written. */
  ipText(s: number): string {
    return this.flags[s]! & WHOLE ? this.whole.get(s)!.ip : intToIp(this.ip[s]!);
  }

  /** The MAC of slot `s` as written. */
  macText(s: number): string {
    return this.flags[s]! & WHOLE ? this.whole.get(s)!.mac : numberToMac(this.mac[s]!);
  }

  /** The `_id` of slot `s`. */
  idOf(s: number): string {
    return this.flags[s]! & WHOLE ? this.whole.get(s)!._id : numberToMac(this.mac[s]!);
  }

  stateOf(s: number): LeaseDoc['state'] {
    return this.flags[s]! & WHOLE ? this.whole.get(s)!.state : STATES[this.state[s]!]!;
  }

  expiresOf(s: number): number {
    return this.flags[s]! & WHOLE ? this.whole.get(s)!.expires_at : this.expires[s]!;
  }

  /** The live slots, lowest first. Removing the current one while iterating is safe. */
  *slots(): IterableIterator<number> {
    for (let s = 0; s < this.top; s++) if (this.flags[s]! & LIVE) yield s;
  }

  private write(s: number, d: LeaseDoc): void {
    const mac = macToNumber(d.mac);
    const ip = ipToInt(d.ip);
    if (!fits(d, mac, ip)) {
      this.flags[s] = LIVE | WHOLE;
      this.whole.set(s, d);
      this.hostnames.delete(s);
      this.clientIds.delete(s);
      return;
    }
    let f = LIVE;
    this.whole.delete(s);
    this.mac[s] = mac;
    this.ip[s] = ip!;
    this.state[s] = STATE_CODE.get(d.state)!;
    this.expires[s] = d.expires_at;
    this.updated[s] = d.updated_at;
    let p = this.poolNo.get(d.pool);
    if (p === undefined) {
      if (this.poolNames.size === 0xffff) throw new RangeError('more than 65,535 pool names');
      this.poolNo.set(d.pool, (p = this.poolNames.size));
      this.poolNames.set(p, d.pool);
    }
    this.pool[s] = p;
    if (d.hostname === null) this.hostnames.delete(s);
    else this.hostnames.set(s, d.hostname);
    if (d.client_id === null) f |= CID_NULL;
    else if (d.client_id === cidOfMac(d.mac)) f |= CID_FROM_MAC;
    if (f & (CID_NULL | CID_FROM_MAC)) this.clientIds.delete(s);
    else this.clientIds.set(s, d.client_id!);
    if ('arch' in d) {
      f |= HAS_ARCH;
      this.arch[s] = d.arch === null ? NaN : (d.arch as number);
    }
    this.flags[s] = f;
  }

  /** Twice the slots (at first `entries`): the typed arrays are copied, outside V8's heap. */
  private grow(): void {
    const n = Math.max(this.entries, 1, this.flags.length * 2);
    const more = <T extends Uint8Array | Uint16Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.flags = more(this.flags, (k) => new Uint8Array(k));
    this.mac = more(this.mac, (k) => new Float64Array(k));
    this.ip = more(this.ip, (k) => new Float64Array(k));
    this.state = more(this.state, (k) => new Uint8Array(k));
    this.expires = more(this.expires, (k) => new Float64Array(k));
    this.updated = more(this.updated, (k) => new Float64Array(k));
    this.pool = more(this.pool, (k) => new Uint16Array(k));
    this.arch = more(this.arch, (k) => new Float64Array(k));
  }
}

/** `_id` (or MAC) -> slot: canonical MACs as numbers off the heap, any other string in a Map. */
export class IdSlots {
  private readonly byMac: NumberIndex;
  private readonly other = new Map<string, number>();

  /** @param entries MACs indexed before the first rebuild. */
  constructor(entries = DEFAULT_ENTRIES) {
    this.byMac = new NumberIndex(entries);
  }

  /** The slot of `id`, or -1. */
  get(id: string): number {
    const n = macToNumber(id);
    return n >= 0 ? this.byMac.get(n) : (this.other.get(id) ?? -1);
  }

  set(id: string, slot: number): void {
    const n = macToNumber(id);
    if (n >= 0) this.byMac.set(n, slot);
    else this.other.set(id, slot);
  }

  delete(id: string): void {
    const n = macToNumber(id);
    if (n >= 0) this.byMac.delete(n);
    else this.other.delete(id);
  }
}
