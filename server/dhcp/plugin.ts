/**
 * The DHCP service as a Plugin: full server or proxyDHCP on one NIC, a
 * foreign-server probe before full mode goes live and periodically after,
 * pause while the NIC is down or renumbered. Sockets, probe and link watch come
 * from an injected `DhcpIo` (io.ts), so the plugin runs in tests on memory.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { LeaseFile } from '../store/lease-file.ts';
import type { EventSink } from '../events/event-log.ts';
import type { BootHooks } from '../core/boot-hooks.ts';
import type { Logger, Plugin } from '../core/plugin.ts';
import { ccError } from '../errors/cc-error.ts';
import type { Peer, UdpTransport } from '../net/pinned-udp.ts';
import { DhcpHandler, type HandlerDeps } from './handler.ts';
import { LeaseTable, type Pool, type ReservationSource } from './lease-table.ts';
import { ProxyStrategies, type ProxyStrategy } from './proxy-strategy.ts';
import { competitors, describeServer, probeMac } from './probe-reply.ts';
import { LeaseStore } from './lease-store.ts';
import { BoundedMap } from './bounded-map.ts';
import { poolsFor } from './pools.ts';
import { encodeExtraOptions } from './extra-options.ts';
import { realDhcpIo, type DhcpIo, type DhcpIoFactory, type Nic } from './io.ts';
import { udpBatch } from '../net/native-udp.ts';
import { collectGarbageNow } from '../system/full-gc.ts';
import { BACKGROUND_NICE, mainThreadFirst, yieldBackgroundThreads } from '../system/background-threads.ts';
import { handlerEvents, handlerHooks, memoryLeaseStore, runWarmStart, silentLogger, throwawayEvents } from './warm-start.ts';
import {
  DEFAULT_LEASE_S,
  DEFAULT_LINK_POLL_MS,
  DEFAULT_PROBE_MS,
  DEFAULT_REPROBE_MS,
  MAX_FOREIGN_SERVERS,
  MAX_TRACKED_CLIENTS,
  SWEEP_INTERVAL_MS,
  WARM_START_DORAS,
  WARM_TABLE_ENTRIES,
  WARM_START_SLICE,
  WARM_EVENTS_PER_MIN,
} from './defaults.ts';
import type { EventLimit } from '../events/event-budget.ts';
import { DEFAULT_DHCP_EVENTS_PER_MIN } from '../settings/node-plane-defaults.ts';

/** Knobs beyond the frozen config (tests, the lab, benchmarks). All optional. */
export interface DhcpPluginOptions {
  /** Foreign-server probe listen time before full mode goes live. */
  probeMs?: number;
  /** Re-probe interval while serving (0 = never). */
  reprobeMs?: number;
  linkPollMs?: number;
  leaseS?: number;
  /** Cap of per-client memory (proxy strategies, IP -> MAC); default sized for a 500-node rack. */
  maxTrackedClients?: number;
  /** DORAs the warm start runs when `config.dhcpWarmStart` is on (default WARM_START_DORAS). */
  warmStartDoras?: number;
  now?: () => number;
}

/** The warm start as the plugin reports it (stats, /api/v1/status). */
export interface WarmStartState {
  state: 'off' | 'running' | 'done';
  /** Synthetic client messages handled so far (a DORA is two), and the replies the handler built for them (dropped). */
  exchanges: number;
  replies: number;
  /** Wall time and process CPU of the whole warm start, once done. */
  ms: number;
  cpuMs: number;
  /** The full collection that ends a finished warm start (server/system/full-gc.ts), in ms; 0 until then. */
  collectMs: number;
}

/** What the core passes in. */
export interface DhcpPluginDeps {
  config: Config;
  leases: LeaseFile;
  events: EventSink;
  hooks: BootHooks;
  log: Logger;
  /** Live reservations (the store-backed service); none when absent. */
  reservations?: ReservationSource;
  /**
   * The setting `dhcp_events_per_min`, read for every datagram so a change applies at once: per-packet events recorded
   * a minute in each of two budgets (event-budget.ts). DEFAULT_DHCP_EVENTS_PER_MIN when absent.
   */
  eventsPerMin?: () => number;
  /** Side effects; the real NIC when absent. */
  io?: DhcpIoFactory;
  options?: DhcpPluginOptions;
  /**
   * Settles once the whole appliance has started (every plane built and listening). The warm start's closing full
   * collection waits for it, so that it also takes what the start built after DHCP: the admin plane's routes,
   * validators and serializers, about 11 MB that otherwise sat in V8's young generation until the first burst's
   * scavenges copied and promoted them. Absent: the collection follows the warm start's exchanges at once.
   */
  appStarted?: Promise<void>;
}

/** The DHCP plugin and its extra surface. */
export type DhcpPlugin = Plugin & {
  /** Counters: received, malformed, offers, acks, naks, ... */
  stats(): Record<string, number>;
  /** The TFTP server saw a read request from `ip`: the proxy strategy that got it there works (said once per MAC). */
  noteTftpRequest(ip: string): Promise<void>;
  /** The proxy strategy remembered for a MAC. */
  proxyStrategy(mac: string): { strategy: ProxyStrategy; proven: boolean } | null;
  /** Where the warm start is (warm-start.ts). */
  warmStart(): WarmStartState;
};

/** What differs between the real handler and the warm start's. */
type Parts = Pick<HandlerDeps, 'table' | 'log' | 'strategies' | 'conflictCheck' | 'noteClientIp' | 'eventLimit'> & {
  /** The real log, or the warm start's scratch log (both EventLog: handlerEvents gives the handler one shape). */
  events: EventSink;
  /** Where leases are written: the real store, or the warm start's in memory (persist/remove are made from it by one closure each). */
  leases: LeaseStore;
  /** Whether sightings reach the core (a node created per new booting MAC): not in the warm start (warm-start.ts handlerHooks). */
  sightings: boolean;
};

/**
 * An event limit, the real handler's and each warm-start handler's alike: made at one site and written after it is
 * made, as the real one is for every datagram. A field never written since its object was made is a constant to V8,
 * and the first real write threw away the optimised code that relied on that (`record`, "code dependencies" under
 * --trace-deopt); objects made at two sites met `record` with a "wrong map".
 */
function newEventLimit(perMin: number): EventLimit {
  const limit: EventLimit = { perMin: 0 };
  limit.perMin = perMin;
  return limit;
}

/** Create the DHCP plugin (mode from `config.dhcp`). */
export function createDhcpPlugin(deps: DhcpPluginDeps): DhcpPlugin {
  const { config, leases, events, hooks, log } = deps;
  const eventsPerMin = deps.eventsPerMin ?? (() => DEFAULT_DHCP_EVENTS_PER_MIN);
  /** The real handler's event limit, set from the setting for every datagram (event-budget.ts EventLimit). */
  const eventLimit = newEventLimit(eventsPerMin());
  const o = deps.options ?? {};
  const now = o.now ?? Date.now;
  const cap = o.maxTrackedClients ?? MAX_TRACKED_CLIENTS;
  const strategies = new ProxyStrategies('omit43', cap);
  const ipToMac = new BoundedMap<string, string>(cap);
  const sockets: UdpTransport[] = [];
  const timers: (() => void)[] = [];
  let handler: DhcpHandler | null = null;
  let table: LeaseTable | null = null;
  let lstore: LeaseStore | null = null;
  let io: DhcpIo | null = null;
  let serving = false;
  let stopping = false;
  /** Ends the warm start's wait for the appliance's start when the plugin stops first (a start that failed later on). */
  let stopWaiting: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stopWaiting = resolve));
  let warm: WarmStartState = { state: 'off', exchanges: 0, replies: 0, ms: 0, cpuMs: 0, collectMs: 0 };
  let warmRun: Promise<void> | null = null;
  /**
   * The warm start's last handler, held until the plugin stops. The real handler's closures (`report`, the hooks) were
   * made before the warm start and first run after it; V8 gives a closure the optimised code its siblings of the same
   * site left, but holds that code only through closures that use it. Once every warm handler was garbage, the
   * warm start's closing full collection took that code, and the first real packets compiled `report` again
   * (docs/perf/changes.md, "Two deoptimisations at the first real lease").
   */
  const warmKept: { handler: DhcpHandler | null } = { handler: null };
  const extra: Record<string, number> = {};
  const bump = (k: string) => (extra[k] = (extra[k] ?? 0) + 1);

  function requireNic(): Nic {
    if (!config.iface || config.ifindex === null) throw ccError('CC_ERR_IFACE_NOT_FOUND', 'DHCP needs --iface');
    if (!config.address) throw ccError('CC_ERR_IFACE_NO_ADDRESS', config.iface);
    return { iface: config.iface, ifindex: config.ifindex, ip: config.address.ip, prefix: config.address.prefix };
  }

  /** Full mode does not go live beside another address authority or boot server (unless --force). */
  async function refuseIfCompeting(dio: DhcpIo, nic: Nic, mac: string): Promise<void> {
    const heard = await dio.probe(o.probeMs ?? DEFAULT_PROBE_MS, mac);
    const found = competitors('full', heard.servers);
    log.info({ iface: nic.iface, found, overflow: heard.overflow }, 'dhcp: probed the link for other DHCP servers');
    const first = found.find((s) => s.kind === 'dhcp') ?? found[0];
    if (!first) return;
    events.emit('dhcp.foreign_server', {
      message: `DHCP server ${describeServer(first)} on ${nic.iface}`,
      data: { servers: found, overflow: heard.overflow },
    });
    const detail = `server ${describeServer(first)} on ${nic.iface}${found.length > 1 ? ` (and ${found.length - 1 + heard.overflow} more)` : ''}`;
    throw ccError(first.kind === 'dhcp' ? 'CC_ERR_FOREIGN_DHCP' : 'CC_ERR_FOREIGN_PXE', detail, { servers: found });
  }

  /** Re-probe while serving; each newly seen competitor raises one `dhcp.foreign_server` event. */
  function startReprobe(dio: DhcpIo, nic: Nic, mode: 'full' | 'proxy', mac: string): void {
    const reprobeMs = o.reprobeMs ?? DEFAULT_REPROBE_MS;
    if (reprobeMs <= 0) return;
    const known = new BoundedMap<string, true>(MAX_FOREIGN_SERVERS);
    const run = () =>
      void dio
        .probe(o.probeMs ?? DEFAULT_PROBE_MS, mac)
        .then((r) => {
          const found = competitors(mode, r.servers);
          log.info({ heard: r.servers.length, competitors: found.length, overflow: r.overflow }, 'dhcp: re-probed the link');
          for (const s of found) {
            const key = `${s.serverId}|${s.from}|${s.kind}`;
            if (known.has(key)) continue;
            known.set(key, true);
            events.emit('dhcp.foreign_server', {
              message: `another ${s.kind === 'proxy' ? 'proxyDHCP/PXE boot' : 'DHCP'} server appeared on ${nic.iface}: ${describeServer(s)}`,
              data: { ...s, mode },
            });
          }
        })
        .catch((e: unknown) => log.warn({ err: e }, 'dhcp: re-probe failed'));
    // Proxy mode never refuses to start (the site's DHCP server is expected): look once right away instead.
    if (mode === 'proxy') run();
    const t = setInterval(run, reprobeMs);
    t.unref();
    timers.push(() => clearInterval(t));
  }

  /** Start the warm start (warm-start.ts) on throwaway parts; it ends early when the plugin stops. */
  async function warmUp(mode: 'full' | 'proxy', nic: Nic, pools: Pool[], newHandler: (p: Parts) => DhcpHandler): Promise<void> {
    warm = { state: 'running', exchanges: 0, replies: 0, ms: 0, cpuMs: 0, collectMs: 0 };
    const events = throwawayEvents();
    const plan = {
      mode,
      serverIp: nic.ip,
      prefix: nic.prefix,
      pools,
      doras: o.warmStartDoras ?? WARM_START_DORAS,
      slice: WARM_START_SLICE,
    };
    const r = await runWarmStart({
      ...plan,
      stopped: () => stopping,
      progress: (exchanges, replies) => (warm = { ...warm, exchanges, replies }),
      newHandler: async () => {
        const leases = memoryLeaseStore();
        const h = newHandler({
          table: new LeaseTable(deps.reservations, WARM_TABLE_ENTRIES),
          leases,
          sightings: false,
          events,
          eventLimit: newEventLimit(WARM_EVENTS_PER_MIN),
          log: silentLogger,
          strategies: new ProxyStrategies('omit43', cap),
          conflictCheck: null,
          noteClientIp: () => undefined,
        });
        warmKept.handler = h;
        return h;
      },
    });
    // The scratch log is left open: nothing holds it but the last warm handler (warmKept), and what it writes goes
    // nowhere. Closing it stored `closed = true`, the first store to that field of any EventLog since its constructor,
    // and V8 threw away the optimised code that had relied on the field never changing (`report`, with `emit` inlined,
    // "code dependencies" under --trace-deopt): the first real burst ran it unoptimised and compiled it again
    // (docs/perf/changes.md, "The scratch log left open").
    // The warm start and the start around it leave tens of MB of garbage and a heap limit V8 set from the start's
    // small heap: collected while no machine waits, the first rack's burst does not meet a full collection
    // (docs/perf/changes.md, "Full collections under a DHCP burst"). Collected once the whole appliance has started,
    // so that it also takes what the start built after DHCP (deps.appStarted).
    if (r.complete && !stopping) await Promise.race([deps.appStarted ?? Promise.resolve(), stopped]);
    const collectMs = r.complete && !stopping ? collectGarbageNow() : 0;
    // From now on the optimiser compiles in the main thread's idle time on one CPU (server/system/background-threads.ts);
    // not before: the warm start's own compiling has to finish first.
    // And the main thread, real-time on one CPU, takes the CPU from them the moment a packet wakes it.
    if (r.complete && !stopping) {
      const y = yieldBackgroundThreads();
      if (y.threads.length > 0) {
        const m = mainThreadFirst();
        log.info(
          {
            threads: y.threads.length,
            nice: BACKGROUND_NICE,
            schedIdle: y.policy.idle,
            ...(y.policy.idle ? {} : { why: y.policy.why }),
            mainRealtime: m.realtime,
            ...(m.realtime ? {} : { mainWhy: m.why }),
          },
          "dhcp: V8's background threads yield to the main thread (one CPU)",
        );
      } else log.debug({ why: y.skipped }, "dhcp: V8's background threads left as they are");
    }
    warm = { state: r.complete ? 'done' : 'off', exchanges: r.exchanges, replies: r.replies, ms: r.ms, cpuMs: r.cpuMs, collectMs };
    if (r.complete)
      log.info(
        { exchanges: r.exchanges, replies: r.replies, ms: Math.round(r.ms), cpuMs: Math.round(r.cpuMs), collectMs: Math.round(collectMs) },
        'dhcp: warm start done',
      );
  }

  async function listen(dio: DhcpIo, port: number, onProxyPort: boolean): Promise<void> {
    const t = await dio.openSocket(port, onProxyPort ? 'proxyDHCP' : 'DHCP');
    sockets.push(t);
    // The callback returns its promise (a real socket ignores it) so an in-memory transport can await the answer.
    t.onMessage((buf: Buffer, from: Peer) => {
      if (!serving || !handler) return void bump('paused_drops');
      eventLimit.perMin = eventsPerMin();
      return handler.handle(buf, from, onProxyPort).then(async (out) => {
        for (const m of out) {
          try {
            await t.send(m.buf, m.to);
            bump('sent');
          } catch (e) {
            bump('send_errors');
            log.warn({ err: e, to: m.to }, 'dhcp: send failed');
          }
        }
      });
    });
  }

  return {
    name: 'dhcp',
    async start() {
      if (config.dhcp === 'off') return;
      const nic = requireNic();
      const mode = config.dhcp;
      if (mode === 'full' && !config.range) throw ccError('CC_ERR_RANGE_INVALID', 'full DHCP needs --range START-END');
      const pools = poolsFor(config);
      const extraOptions = encodeExtraOptions(config.dhcpOptions);
      const dio = (deps.io ?? realDhcpIo)(nic, o.linkPollMs ?? DEFAULT_LINK_POLL_MS, config.dhcpJs ?? false);
      if (!deps.io && !config.dhcpJs && !udpBatch.addon)
        log.warn({ why: udpBatch.why }, "DHCP: sockets read through Node's datagram layer, not in batches (more CPU per exchange)");
      io = dio;
      const mac = probeMac(randomBytes(6));
      if (mode === 'full' && !config.force) await refuseIfCompeting(dio, nic, mac);
      const t = new LeaseTable(deps.reservations);
      const store = new LeaseStore(leases);
      t.load(await store.loadAll());
      table = t;
      lstore = store;
      // One constructor call for the real handler and the warm start's, so both have the same shapes and the same
      // closures (V8's feedback carries over; a closure made at another site deoptimises on "wrong feedback cell").
      const newHandler = (p: Parts) =>
        new DhcpHandler({
          mode,
          serverIp: nic.ip,
          prefix: nic.prefix,
          probeMac: mac,
          pools,
          table: p.table,
          publicUrl: config.publicUrl,
          leaseS: o.leaseS ?? DEFAULT_LEASE_S,
          extraOptions,
          persist: (doc, durable) => p.leases.put(doc, durable),
          remove: (m) => p.leases.remove(m),
          hooks: handlerHooks(hooks, p.sightings),
          events: handlerEvents(p.events),
          eventLimit: p.eventLimit,
          log: p.log,
          strategies: p.strategies,
          conflictCheck: p.conflictCheck,
          noteClientIp: p.noteClientIp,
          now,
        });
      handler = newHandler({
        table: t,
        leases: store,
        sightings: true,
        events,
        eventLimit,
        log,
        strategies,
        conflictCheck: config.conflictCheck ? (ip) => dio.addressInUse(ip) : null,
        noteClientIp: (ip, m) => void ipToMac.set(ip, m),
      });
      await listen(dio, config.ports.dhcp, false);
      if (mode === 'proxy') await listen(dio, config.ports.proxy, true);
      serving = true;
      timers.push(
        dio.watchLink((up, s) => {
          serving = up;
          events.emit(up ? 'service.state' : 'service.error', {
            message: up
              ? `DHCP resumed on ${nic.iface}`
              : `DHCP paused: ${nic.iface} is ${s.exists ? (s.up ? `no longer ${nic.ip}` : 'down') : 'gone'}`,
            data: { service: 'dhcp', state: up ? 'serving' : 'paused', link: s },
          });
        }),
      );
      const sweep = setInterval(() => {
        for (const d of t.sweep(now())) void store.put(d, false).catch(() => undefined);
      }, SWEEP_INTERVAL_MS);
      sweep.unref();
      timers.push(() => clearInterval(sweep));
      startReprobe(dio, nic, mode, mac);
      log.info({ mode, iface: nic.iface, ip: nic.ip, pools: pools.map((p) => p.name) }, 'dhcp: serving');
      if (config.dhcpWarmStart) warmRun = warmUp(mode, nic, pools, newHandler);
    },
    async stop() {
      serving = false;
      stopping = true;
      stopWaiting();
      await warmRun;
      warmKept.handler = null;
      for (const t of timers.splice(0)) t();
      await Promise.all(sockets.splice(0).map((s) => s.close()));
    },
    stats() {
      return {
        ...(handler?.stats ?? {}),
        ...extra,
        ...socketStats(sockets),
        lease_batches: lstore?.batches ?? 0,
        lease_writes: lstore?.batchedDocs ?? 0,
        lease_disk_syncs: lstore?.diskSyncs.count ?? 0,
        lease_disk_sync_mean_ms: lstore?.diskSyncs.meanMs ?? 0,
        lease_disk_sync_max_ms: lstore?.diskSyncs.maxMs ?? 0,
        tracked_strategies: strategies.size,
        tracked_ips: ipToMac.size,
        serving: serving ? 1 : 0,
        warm_start_done: warm.state === 'done' ? 1 : 0,
        warm_start_exchanges: warm.exchanges,
        warm_start_replies: warm.replies,
        warm_start_ms: Math.round(warm.ms),
        warm_start_cpu_ms: Math.round(warm.cpuMs),
      };
    },
    async noteTftpRequest(ip) {
      const mac = ipToMac.get(ip) ?? table?.holderOf(ip) ?? (await io?.macForIp(ip)) ?? null;
      if (!mac) return;
      const p = strategies.proven(mac);
      if (p?.newly) await handler?.strategyProven(mac, p.strategy, ip);
    },
    proxyStrategy: (mac) => strategies.get(mac),
    warmStart: () => ({ ...warm }),
  };
}

/** The batched sockets' counters, summed (zero on Node sockets): datagrams per wakeup, and oversize ones dropped. */
function socketStats(sockets: readonly UdpTransport[]): Record<string, number> {
  const r = { socket_batches: 0, socket_datagrams: 0, oversize_drops: 0, socket_read_errors: 0 };
  for (const t of sockets) {
    const s = t.stats?.();
    if (!s) continue;
    r.socket_batches += s.batches;
    r.socket_datagrams += s.datagrams;
    r.oversize_drops += s.oversize;
    r.socket_read_errors += s.readErrors;
  }
  return r;
}
