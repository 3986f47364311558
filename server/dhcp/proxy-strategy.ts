/**
 * The two proxyDHCP strategies for UEFI firmware (PXE-NOTES): send option 43
 * with discovery control 8 (boot the file now), or omit option 43 so the
 * firmware asks the boot server on port 4011. Some firmware only works with
 * one; remember per MAC which one led to a TFTP request.
 */
import { MAX_TRACKED_CLIENTS, PROXY_STRATEGY_RETRY_MS } from './defaults.ts';
import { BoundedMap } from './bounded-map.ts';

/** One of the two ways to answer UEFI firmware in proxy mode. */
export type ProxyStrategy = 'omit43' | 'send43';

interface Entry {
  strategy: ProxyStrategy;
  /** A TFTP request followed an answer with this strategy. */
  proven: boolean;
  lastXid: number;
  lastAt: number;
}

/** Per-MAC strategy memory, bounded (least recently seen MACs are forgotten past the cap). */
export class ProxyStrategies {
  private readonly byMac: BoundedMap<string, Entry>;

  /** The default first try: omit 43 (what OVMF follows to port 4011). */
  constructor(
    private readonly first: ProxyStrategy = 'omit43',
    cap = MAX_TRACKED_CLIENTS,
  ) {
    this.byMac = new BoundedMap(cap);
  }

  /** MACs remembered now (never more than the cap). */
  get size(): number {
    return this.byMac.size;
  }

  /**
   * The strategy for this DISCOVER. A new transaction arriving after the retry
   * delay without a TFTP request since the last answer means the last strategy failed: flip.
   */
  choose(mac: string, xid: number, now: number): { strategy: ProxyStrategy; flipped: boolean } {
    const e = this.byMac.get(mac);
    if (!e) {
      this.byMac.set(mac, { strategy: this.first, proven: false, lastXid: xid, lastAt: now });
      return { strategy: this.first, flipped: false };
    }
    let flipped = false;
    if (!e.proven && xid !== e.lastXid && now - e.lastAt >= PROXY_STRATEGY_RETRY_MS) {
      e.strategy = e.strategy === 'omit43' ? 'send43' : 'omit43';
      flipped = true;
    }
    e.lastXid = xid;
    e.lastAt = now;
    return { strategy: e.strategy, flipped };
  }

  /**
   * A TFTP request came from this MAC: its current strategy works. Returns it, and whether this request is the one that
   * proved it (a machine makes several TFTP requests a boot; the proof is said once).
   */
  proven(mac: string): { strategy: ProxyStrategy; newly: boolean } | null {
    const e = this.byMac.get(mac);
    if (!e) return null;
    const newly = !e.proven;
    e.proven = true;
    return { strategy: e.strategy, newly };
  }

  /** What is remembered for a MAC (for the UI and tests). */
  get(mac: string): { strategy: ProxyStrategy; proven: boolean } | null {
    const e = this.byMac.peek(mac);
    return e ? { strategy: e.strategy, proven: e.proven } : null;
  }
}
