/**
 * The DHCP handler: parse and filter one datagram (request.ts), look up the
 * node, then hand it to the full server or the proxy through their narrow
 * contexts (context.ts). No sockets here: it returns the datagrams to send.
 */
import { MalformedPacket } from '../net/malformed.ts';
import type { Peer } from '../net/pinned-udp.ts';
import type { BootHooks, LoaderPrefs } from '../core/boot-hooks.ts';
import type { Logger } from '../core/plugin.ts';
import type { EventInput, EventSink } from '../events/event-log.ts';
import { intervalLogger, RACK_LOG_INTERVAL_MS } from '../core/interval-logger.ts';
import type { DhcpMessageEventType } from '../../contract/event-data.ts';
import { BUDGET, EventBudget, suppressedEvent, type BudgetDecision, type BudgetNames, type EventLimit } from '../events/event-budget.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { bootFileFor, isBootClient, unservedReason, type BootChoice } from './classify.ts';
import type { LeaseTable, Pool } from './lease-table.ts';
import type { ProxyStrategies } from './proxy-strategy.ts';
import { parseRequest, type Request } from './request.ts';
import { requestEvent } from './request-event.ts';
import type { FullContext, Outgoing, ProxyContext, ServerContext } from './context.ts';
import { handleFull } from './full-server.ts';
import { handleProxy } from './proxy-server.ts';
import { MALFORMED_EVENT_INTERVAL_MS, MAX_TRACKED_CLIENTS, UNSUPPORTED_EVENT_INTERVAL_MS } from './defaults.ts';
import { BoundedMap } from './bounded-map.ts';
import { DEFAULT_EFI_LOADER } from '../config/defaults.ts';

/**
 * When the core cannot say (its hook failed): iPXE, the chain every non-Secure-Boot machine runs, in the default
 * build. Also what the warm start's throwaway hooks answer.
 */
/** What the DHCP event budget's summaries say (setting `dhcp_events_per_min`). */
const DHCP_BUDGET: BudgetNames = {
  kind: 'dhcp_events',
  noun: 'DHCP packet events',
  sources: ['dhcp-nodes', 'dhcp'],
  setting: 'dhcp_events_per_min',
};

export const DEFAULT_LOADER_PREFS: LoaderPrefs = { efiLoader: DEFAULT_EFI_LOADER, secureChain: false, uboot: false };

export type { Outgoing } from './context.ts';

/** Everything the handler needs, passed in by the plugin (or a test). */
export interface HandlerDeps {
  mode: 'full' | 'proxy';
  serverIp: string;
  /** The prefix length of the NIC's address (proxy mode answers relays on that subnet only). */
  prefix: number;
  /** The MAC of our own foreign-server probe: never answered. */
  probeMac?: string | null;
  pools: readonly Pool[];
  table: LeaseTable;
  publicUrl: string;
  leaseS: number;
  /** Operator-defined options, encoded (full mode). */
  extraOptions: readonly [number, Uint8Array][];
  persist(doc: LeaseDoc, durable: boolean): Promise<void>;
  remove(mac: string): Promise<void>;
  hooks: BootHooks;
  /** The log; `publish` hands an event over the budget to the listeners that act on it, without recording it. */
  events: DhcpEventSink;
  /** Per-packet events recorded a minute, per budget (setting `dhcp_events_per_min`; 0 lifts it): event-budget.ts. */
  eventLimit: EventLimit;
  log: Logger;
  strategies: ProxyStrategies;
  conflictCheck: ((ip: string) => Promise<boolean>) | null;
  noteClientIp(ip: string, mac: string): void;
  now(): number;
}

/** The event log as the handler uses it (server/events/event-log.ts `EventLog`; warm-start.ts `handlerEvents`). */
export interface DhcpEventSink extends EventSink {
  publish(type: BudgetedDhcpEventType, e: EventInput<BudgetedDhcpEventType>): void;
}

/** The `dhcp.*` events a rack machine's packets cause, recorded within the DHCP event budget (`record`). */
export type BudgetedDhcpEventType = DhcpMessageEventType | 'dhcp.proxy';

/** Counters shown by `stats()`. */
export type Stats = Record<string, number>;

/** The handler: one instance per plugin start. */
export class DhcpHandler {
  readonly stats: Stats = {};
  private lastMalformedEvent = -Infinity;
  private readonly lastUnsupported = new BoundedMap<string, number>(MAX_TRACKED_CLIENTS);
  private readonly full: FullContext;
  private readonly budget = new EventBudget();
  private readonly proxy: ProxyContext;

  /** `d.log`, each warning or error at most once per interval: every one of them is a datagram's doing (interval-logger.ts). */
  private readonly log: Logger;

  constructor(private readonly d: HandlerDeps) {
    this.log = intervalLogger(d.log, RACK_LOG_INTERVAL_MS, () => d.now());
    const base: ServerContext = {
      serverIp: d.serverIp,
      now: d.now,
      log: this.log,
      count: (k) => this.count(k),
      report: (type, r, msg, extra) => this.record(type, requestEvent(r, msg, extra), r.nodeId !== null),
      bootChoice: (r) => this.bootChoice(r),
      unsupported: (r, reason) => this.unsupported(r, reason),
    };
    this.full = {
      ...base,
      pools: d.pools,
      table: d.table,
      leaseS: d.leaseS,
      extraOptions: d.extraOptions,
      persist: d.persist,
      remove: d.remove,
      conflictCheck: d.conflictCheck,
    };
    this.proxy = {
      ...base,
      prefix: d.prefix,
      strategies: d.strategies,
      noteClientIp: d.noteClientIp,
      strategyChanged: (r, strategy) =>
        this.record(
          'dhcp.proxy',
          { node_id: r.nodeId, mac: r.mac, message: `${r.mac} did not reach TFTP; proxy strategy now ${strategy}`, data: { strategy } },
          r.nodeId !== null,
        ),
    };
  }

  /** Count something. */
  count(k: string, n = 1): void {
    this.stats[k] = (this.stats[k] ?? 0) + n;
  }

  /** Handle one datagram that arrived on 67 or on the proxy port. Never throws. */
  async handle(buf: Uint8Array, from: Peer, onProxyPort: boolean): Promise<Outgoing[]> {
    this.count('received');
    let req: Request;
    try {
      const p = parseRequest(buf, from, { serverIp: this.d.serverIp, probeMac: this.d.probeMac ?? null }, onProxyPort);
      if ('drop' in p) {
        this.count(p.drop);
        return [];
      }
      req = p.req;
    } catch (e) {
      if (!(e instanceof MalformedPacket)) throw e;
      this.malformed(e, from);
      return [];
    }
    try {
      req.nodeId = await this.nodeFor(req);
      if (onProxyPort || this.d.mode === 'proxy') return await handleProxy(this.proxy, req);
      return await handleFull(this.full, req);
    } catch (e) {
      // A malformed option found while deciding (e.g. a broken option 50) is a malformed packet too.
      if (e instanceof MalformedPacket) {
        this.malformed(e, from);
        return [];
      }
      this.count('errors');
      this.log.error({ err: e, mac: req.mac }, 'dhcp: request failed');
      return [];
    }
  }

  /**
   * A TFTP request came from `mac`'s address and proved its proxy strategy: one `dhcp.proxy` event, within the DHCP
   * event budget (the request is one datagram from any source address).
   */
  async strategyProven(mac: string, strategy: string, ip: string): Promise<void> {
    const nodeId = await this.d.hooks.nodeIdForMac(mac).catch(() => null);
    const message = `${mac} reached TFTP with proxy strategy ${strategy}`;
    this.record('dhcp.proxy', { node_id: nodeId, mac, message, data: { strategy, ip } }, nodeId !== null);
  }

  /**
   * A per-packet event: recorded within its budget, else published live and counted (event-budget.ts). The same steps
   * as `BudgetedEvents.record` (budgeted-events.ts), kept inline: this runs for every packet, with the limit object and
   * sink shapes the warm start trains (test/dhcp/warm-deopt.test.ts), which a class shared with TFTP would not keep.
   */
  private record(type: BudgetedDhcpEventType, e: EventInput<BudgetedDhcpEventType>, node: boolean): void {
    const perMin = this.d.eventLimit.perMin;
    const decision = this.budget.take(node, perMin, this.d.now());
    if (decision === BUDGET.PASS) {
      this.d.events.emit(type, e);
      return;
    }
    if (decision === BUDGET.RECOVERED) {
      this.budgetSummary(decision, node, perMin);
      this.d.events.emit(type, e);
      return;
    }
    this.count('events_unrecorded');
    this.d.events.publish(type, e);
    if (decision !== BUDGET.DROP) this.budgetSummary(decision, node, perMin);
  }

  /** The `node.suppressed` event of a DHCP event budget: tripped, still over it a minute later, or over. */
  private budgetSummary(decision: BudgetDecision, node: boolean, perMin: number): void {
    const n = this.budget.counted(node);
    if (decision !== BUDGET.TRIPPED) this.budget.resetCount(node);
    this.d.events.emit('node.suppressed', suppressedEvent(DHCP_BUDGET, decision, node, perMin, n));
  }

  private malformed(e: MalformedPacket, from: Peer): void {
    this.count('malformed');
    const now = this.d.now();
    if (now - this.lastMalformedEvent < MALFORMED_EVENT_INTERVAL_MS) return;
    this.lastMalformedEvent = now;
    this.d.events.emit('dhcp.malformed', {
      message: `dropped a malformed DHCP packet from ${from.address}:${from.port}: ${e.reason}`,
      data: { from: from.address, offset: e.offset, reason: e.reason, total: this.stats.malformed ?? 0 },
    });
  }

  /** Boot clients are recorded as `discovered` nodes on DISCOVER/REQUEST; others are only looked up. */
  private async nodeFor(r: Request): Promise<number | null> {
    try {
      if (isBootClient(r.facts) && (r.type === 1 || r.type === 3)) {
        return await this.d.hooks.sawBoot({
          mac: r.mac,
          arch: r.facts.arch,
          vendorClass: r.facts.vendorClass,
          userClass: r.facts.userClass,
          guid: r.facts.guid,
          ip: r.pkt.ciaddr !== '0.0.0.0' ? r.pkt.ciaddr : null,
          ipxe: r.facts.ipxe || r.facts.ours,
        });
      }
      return await this.d.hooks.nodeIdForMac(r.mac);
    } catch (e) {
      this.count('hook_errors');
      this.log.warn({ err: e, mac: r.mac }, 'dhcp: boot hook failed; continuing without a node id');
      return null;
    }
  }

  /** The boot file for this client, or null (not a boot client / no loader for its firmware: said once a while in an event). */
  private async bootChoice(r: Request): Promise<BootChoice | null> {
    if (!isBootClient(r.facts)) return null;
    const prefs = await this.d.hooks.loaderPrefsFor(r.mac).catch(() => DEFAULT_LOADER_PREFS);
    const c = bootFileFor(r.facts, { publicUrl: this.d.publicUrl, ...prefs, mac: r.mac });
    if (!c) {
      this.count('unknown_arch');
      this.unsupported(r, unservedReason(r.facts, { mac: r.mac, secureChain: prefs.secureChain }));
    }
    return c;
  }

  /** One `dhcp.unsupported` event per MAC and interval: firmware repeats its DISCOVER for minutes. */
  unsupported(r: Request, reason: string): void {
    const now = this.d.now();
    if (now - (this.lastUnsupported.get(r.mac) ?? -Infinity) < UNSUPPORTED_EVENT_INTERVAL_MS) return;
    this.lastUnsupported.set(r.mac, now);
    const e = requestEvent(r, r.type, { reason });
    // Within the DHCP event budget: forged MACs are free, so one event per MAC is no bound on its own.
    this.record(
      'dhcp.unsupported',
      { ...e, message: `${r.mac} (option 93 = ${r.facts.arch ?? 'none'}) gets no boot file: ${reason}` },
      r.nodeId !== null,
    );
  }
}
