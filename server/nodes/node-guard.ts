/**
 * What the rack may make the core do, per source address (docs/security.md "Node plane"): create
 * records for unknown MACs, write events, send facts. Limits are settings read on every call (a change
 * applies at once); when one trips, a single `node.suppressed` event says so, and another one counts
 * what was dropped when the source is allowed again, so garbage cannot flush the event log.
 */
import type { EventType } from '../../contract/index.ts';
import type { EventInput } from '../events/event-log.ts';
import { BudgetedEvents, type PublishingSink } from '../events/budgeted-events.ts';
import type { Settings } from '../settings/settings-service.ts';
import { TokenBuckets } from './token-bucket.ts';

/** Sources tracked at once: far more than a rack's addresses; a flood of forged ones evicts the oldest. */
export const MAX_TRACKED_SOURCES = 4096;

/**
 * Source key of the records UDP creates, DHCP sightings and GRUB's configuration names over TFTP: a datagram's
 * source address is free to forge (each forged one would be a fresh bucket), so they share one
 * (`node_create_dhcp_per_min`). HTTP's `/boot` keeps a bucket per address: TCP needs a handshake.
 */
export const DHCP_SOURCE = 'dhcp';

/** What the guard needs from the core. */
export interface NodeGuardDeps {
  settings: () => Readonly<Settings>;
  /** Where the guard's events go; its `publish` gets those over the ceiling (EventLog). */
  events: PublishingSink;
  /** Sources the limits do not apply to (the simulated rack on loopback). */
  exempt: (source: string) => boolean;
  /** Records that never registered (for the cap). */
  unregistered: () => number;
  now: () => number;
}

type Kind = 'create' | 'discovered' | 'events' | 'facts';

/** Per-source limits of the node plane and the boot hooks. */
export class NodeGuard {
  private readonly buckets = new TokenBuckets(MAX_TRACKED_SOURCES * 4);
  /** Dropped counts per (kind, source) while a limit is tripped. */
  private readonly dropped = new Map<string, number>();
  /**
   * The ceiling over all sources (setting `node_events_per_min`): a per-source budget is no bound on its own, since
   * the rack speaks from as many addresses as it likes and each new one starts with a full bucket. The per-source
   * limits' own `node.suppressed` events are under it too (one per tripped source would be a flood of its own).
   */
  private readonly all: BudgetedEvents;

  constructor(private readonly d: NodeGuardDeps) {
    this.all = new BudgetedEvents({
      sink: d.events,
      names: {
        kind: 'node_events',
        noun: 'node-plane events',
        sources: ['node-plane-nodes', 'node-plane'],
        setting: 'node_events_per_min',
      },
      perMin: () => d.settings().node_events_per_min,
      now: d.now,
    });
  }

  /** May `source` (an address, or DHCP_SOURCE) create a record for an unknown MAC now? */
  mayCreate(source: string): boolean {
    if (this.d.exempt(source)) return true;
    const s = this.d.settings();
    if (s.unregistered_nodes_max > 0 && this.d.unregistered() >= s.unregistered_nodes_max)
      return this.refuse('create', 'cap', `${s.unregistered_nodes_max} machines have never registered; forget some to admit new ones`);
    this.recover('create', 'cap');
    const perMin = source === DHCP_SOURCE ? s.node_create_dhcp_per_min : s.node_create_per_source_per_min;
    const from = source === DHCP_SOURCE ? 'DHCP and TFTP sightings' : source;
    return this.pass('create', source, 1, perMin, `more than ${perMin} new machines per minute from ${from}`);
  }

  /** Emit `node.discovered`, at most `discovered_events_per_min` a minute across all sources. */
  discovered(e: EventInput<'node.discovered'>): void {
    const perMin = this.d.settings().discovered_events_per_min;
    if (this.pass('discovered', '*', 1, perMin, `more than ${perMin} new machines per minute; node.discovered events are summarised`))
      this.d.events.emit('node.discovered', e);
  }

  /** Emit an event a request from `source` caused without any credential, within the source's budget. */
  sourceEvent<T extends EventType>(source: string, type: T, e: EventInput<T>): void {
    this.budgeted(source, undefined, type, e);
  }

  /**
   * Emit an event a node's own request caused with its token (check-in, register, install stage, task report): within
   * that node's budget (`node_events_per_source_per_min`, the node as the source) and the ceiling. A token proves which
   * node speaks, not that it behaves: a hostile agent could otherwise write history events (a check-in that says it is
   * the first after a boot, facts that change every time) as fast as the node plane's request limit lets it.
   */
  nodeEvent<T extends EventType>(nodeId: number, type: T, e: EventInput<T>): void {
    // The source is the node (its budget follows the record, not the address it speaks from), and the summaries name
    // it, so they show on its timeline too.
    this.budgeted(`node ${nodeId}`, nodeId, type, e);
  }

  /** One event within `source`'s budget and the ceiling; `node`: the record whose own budget it is, if any. */
  private budgeted<T extends EventType>(source: string, node: number | undefined, type: T, e: EventInput<T>): void {
    if (this.d.exempt(source)) {
      this.d.events.emit(type, e);
      return;
    }
    const perMin = this.d.settings().node_events_per_source_per_min;
    if (this.pass('events', source, 1, perMin, `more than ${perMin} events per minute from ${source}; dropping them`, node))
      this.all.record(type, e);
  }

  /** Charge a register body of `bytes` to `source`; false when the source is over its facts budget. */
  chargeFacts(source: string, bytes: number): boolean {
    if (this.d.exempt(source)) return true;
    const perMin = this.d.settings().facts_bytes_per_source_per_min;
    return this.pass('facts', source, bytes, perMin, `more than ${perMin} bytes of facts per minute from ${source}`);
  }

  /** `node`: the record whose own budget `source` is (nodeEvent), named by the summaries. */
  private pass(kind: Kind, source: string, cost: number, perMin: number, why: string, node?: number): boolean {
    if (!this.buckets.take(`${kind}\0${source}`, cost, perMin, this.d.now())) return this.refuse(kind, source, why, node);
    this.recover(kind, source, node);
    return true;
  }

  /** A tripped limit lets `source` through again: say how much was dropped meanwhile. */
  private recover(kind: Kind, source: string, node?: number): void {
    const key = `${kind}\0${source}`;
    const n = this.dropped.get(key);
    if (n === undefined) return;
    this.dropped.delete(key);
    const what = kind === 'create' ? 'new records were refused' : kind === 'facts' ? 'registrations were refused' : 'events were dropped';
    this.all.record('node.suppressed', {
      ...(node === undefined ? {} : { node_id: node }),
      message: `Limit over: ${n} ${what} (${source === '*' ? 'all sources' : source})`,
      data: { kind, source, dropped: n, tripped: false },
    });
  }

  private refuse(kind: Kind, source: string, why: string, node?: number): false {
    const key = `${kind}\0${source}`;
    const n = this.dropped.get(key);
    if (n === undefined) {
      this.dropped.set(key, 1);
      while (this.dropped.size > MAX_TRACKED_SOURCES) this.dropped.delete(this.dropped.keys().next().value as string);
      this.all.record('node.suppressed', {
        ...(node === undefined ? {} : { node_id: node }),
        message: `Limit reached: ${why} (see the node-plane settings)`,
        data: { kind, source, tripped: true },
      });
    } else this.dropped.set(key, n + 1);
    return false;
  }
}
