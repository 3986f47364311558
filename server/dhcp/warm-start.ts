/**
 * The DHCP warm start. A fresh process spends its first thousands of exchanges in V8's interpreter and baseline
 * code: about 400 µs of CPU per DORA against 150 µs once the path is optimised (docs/perf/changes.md, DHCP), so a
 * rack powered on right after start saturates the loop and its exchanges queue. Right after the plugin listens,
 * this runs synthetic DORAs (warm-packets.ts) through the same handler code (parse, classify, decide, build and
 * encode the reply) on throwaway parts, fresh for every slice: an in-memory lease table, the lease store's group
 * commit on a lease file kept in memory (the same classes as the real one, no file), the core's hooks with sightings
 * left out (no node is created; the read-only lookups are the real ones), and one event log of the real class that
 * writes nowhere (EventLog.scratch). No socket is touched: the replies are dropped. It runs in slices with a turn
 * of the event loop between them, so a real packet is served at once.
 *
 * What V8 learns here must still hold for the first real packet, or the optimised code is thrown away then and the
 * storm's first second runs on the interpreter again (`--trace-deopt`): the real handler and the warm ones come from
 * one constructor call with the same closures, the events go to the same class as the real log (its ring, batching
 * and appends run here too), and a received datagram reaches the handler in a Buffer of the same hidden class as the
 * packets made here (net/pinned-udp.ts asJsBuffer). test/dhcp/warm-shapes.test.ts checks the classes.
 */
import type { BootHooks } from '../core/boot-hooks.ts';
import type { Logger } from '../core/plugin.ts';
import { EventLog, type EventListener, type EventSink } from '../events/event-log.ts';
import type { Peer } from '../net/pinned-udp.ts';
import { WARM_TABLE_ENTRIES } from './defaults.ts';
import { intToIp, ipToInt, prefixMask } from '../net/ipv4.ts';
import type { DhcpEventSink, DhcpHandler } from './handler.ts';
import type { Pool } from './lease-table.ts';
import { MSG } from './options.ts';
import { LeaseFile } from '../store/lease-file.ts';
import { LeaseStore } from './lease-store.ts';
import { warmMac, warmPacket, type WarmClient } from './warm-packets.ts';

/** What a warm start needs from the plugin. */
export interface WarmStartOptions {
  mode: 'full' | 'proxy';
  serverIp: string;
  prefix: number;
  pools: readonly Pool[];
  /** DORAs to run in all. */
  doras: number;
  /** DORAs per slice; the event loop turns between slices. */
  slice: number;
  /** A handler on fresh throwaway parts (called once per slice, so a small pool never runs dry and memory stays flat). */
  newHandler(): Promise<DhcpHandler>;
  /** Called after each slice with the messages handled and replies built so far. */
  progress(exchanges: number, replies: number): void;
  /** True once the plugin stops: the warm start ends early. */
  stopped(): boolean;
}

/** What a warm start did. */
export interface WarmStartResult {
  /** Client messages handled (a DORA is two). */
  exchanges: number;
  /** Replies the handler built (and dropped). */
  replies: number;
  /** Wall time from first to last slice, event-loop turns between slices included. */
  ms: number;
  /** Process CPU spent inside the slices. */
  cpuMs: number;
  /** False when the plugin stopped before the end. */
  complete: boolean;
}

/** The relays warm clients speak through: a host of the NIC's subnet and one of each relayed pool's. */
function relays(o: WarmStartOptions): string[] {
  const nets = [{ network: (ipToInt(o.serverIp)! & prefixMask(o.prefix)) >>> 0 }, ...o.pools];
  const out = new Set<string>();
  for (const n of nets) {
    const first = intToIp(n.network + 1);
    out.add(first === o.serverIp ? intToIp(n.network + 2) : first);
  }
  return [...out];
}

const KINDS = ['pxe', 'pxe', 'ipxe', 'ipxe', 'os', 'os'] as const;

/** Client `i`: PXE ROM, iPXE or an OS's client, BIOS or UEFI x64, direct or through a relay, in turn. */
function client(i: number, via: readonly string[]): WarmClient {
  const relayed = Math.floor(i / KINDS.length) % 2 === 1;
  const giaddr = relayed ? via[Math.floor(i / (2 * KINDS.length)) % via.length]! : null;
  return { mac: warmMac(i), arch: i & 1 ? 7 : 0, kind: KINDS[i % KINDS.length]!, giaddr };
}

const ipOf = (b: Uint8Array) => `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;

/**
 * DORA `i` (full) or DISCOVER + REQUEST on the boot-server port (proxy); returns the replies built. Every client
 * runs two in a row, as a machine does (its PXE ROM, then iPXE): the second finds the lease of the first, so the
 * returning client's branches (its address offered again, its lease renewed in place) are trained too. Trained on
 * new clients only, the code deoptimised when a storm's machines came back for their second lease (or perfdhcp's
 * clients, a second after the start of a step) and the replies waited for it to be rebuilt (docs/perf/changes.md).
 */
async function dora(o: WarmStartOptions, h: DhcpHandler, i: number, via: readonly string[]): Promise<[number, number]> {
  const cl = client(Math.floor(i / 2), via);
  const from: Peer = cl.giaddr ? { address: cl.giaddr, port: 67 } : { address: '0.0.0.0', port: 68 };
  const xid = (0x5a000000 + i) >>> 0;
  const offer = await h.handle(warmPacket(cl, xid, { type: MSG.DISCOVER }), from, false);
  if (o.mode === 'proxy') {
    // PXE 2.1 2.2.6: with an address from the site's server, the client asks the boot server on 4011 from that address.
    const ciaddr = intToIp(((ipToInt(o.serverIp)! & prefixMask(o.prefix)) >>> 0) + 10 + (i % 200));
    const ack = await h.handle(
      warmPacket(cl, xid, { type: MSG.REQUEST, requested: null, serverId: null, ciaddr }),
      { address: ciaddr, port: 68 },
      true,
    );
    return [2, offer.length + ack.length];
  }
  const yiaddr = offer[0] ? ipOf(offer[0].buf) : null;
  if (!yiaddr) return [1, 0];
  const req = warmPacket(cl, xid, { type: MSG.REQUEST, requested: yiaddr, serverId: o.serverIp, ciaddr: '0.0.0.0' });
  const ack = await h.handle(req, from, false);
  return [2, 1 + ack.length];
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Run the warm start; never throws (a failed exchange is counted by the throwaway handler and ends nothing). */
export async function runWarmStart(o: WarmStartOptions): Promise<WarmStartResult> {
  const via = relays(o);
  const t0 = performance.now();
  let cpuUs = 0;
  let exchanges = 0;
  let replies = 0;
  // Even, so both DORAs of a client meet the same throwaway lease table.
  const slice = Math.max(2, o.slice - (o.slice % 2));
  for (let start = 0; start < o.doras; start += slice) {
    // Let packets that arrived meanwhile go first.
    await nextTurn();
    if (o.stopped()) return { exchanges, replies, ms: performance.now() - t0, cpuMs: cpuUs / 1000, complete: false };
    const c0 = process.cpuUsage();
    const h = await o.newHandler();
    for (let i = start; i < Math.min(o.doras, start + slice); i++) {
      const [x, r] = await dora(o, h, i, via);
      exchanges += x;
      replies += r;
    }
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    o.progress(exchanges, replies);
  }
  return { exchanges, replies, ms: performance.now() - t0, cpuMs: cpuUs / 1000, complete: true };
}

/** The promise a sighting the warm start does not record resolves to (no node). */
const NO_NODE: Promise<number | null> = Promise.resolve(null);

/**
 * The hooks as the handler sees them, for the real handler and the warm start's alike: one object shape and the same
 * core hooks object behind both, so code V8 optimised during the warm start does not deoptimise on the first real
 * packet ("wrong map" on the hooks, "wrong call target" on their methods). The warm start's (`sightings` false)
 * records no sighting, so it creates no node; the two lookups it does run are the real ones, read-only (the node
 * repository by MAC, the loader settings), so they are optimised before the first real packet too.
 */
export function handlerHooks(h: BootHooks, sightings: boolean): BootHooks {
  return {
    sawBoot: (s) => (sightings ? h.sawBoot(s) : NO_NODE),
    loaderPrefsFor: (mac) => h.loaderPrefsFor(mac),
    nodeIdForMac: (mac) => h.nodeIdForMac(mac),
  };
}

/**
 * The event sink as the handler sees it: one shape for the real log and the throwaway sink (see handlerHooks). A sink
 * without `publish` (a test's) drops what goes over the budget.
 */
export function handlerEvents(e: EventSink & Partial<Pick<DhcpEventSink, 'publish'>>): DhcpEventSink {
  return { emit: (type, input) => e.emit(type, input), publish: (type, input) => e.publish?.(type, input) };
}

/** A lease store on a lease file kept in memory: the same classes and code path as the real one, no file behind it. */
export function memoryLeaseStore(): LeaseStore {
  return new LeaseStore(LeaseFile.memory(WARM_TABLE_ENTRIES));
}

/** Events the warm start's log keeps: fewer than it emits, so the ring's eviction runs as it will in a long storm. */
const WARM_EVENTS_KEPT = 1000;

/**
 * Listeners of the warm start's log, two different functions that do nothing. The real log calls several (the chain
 * recorder, the hooks, a browser's event stream) and the warm start's log had none: `emit` was optimised with its
 * call of a listener specialised to the one function the start's own events had called, and the first real event
 * with another listener deoptimised it ("wrong call target", --trace-deopt) and it was compiled again in the
 * burst's first half second. Two targets make that call generic before `emit` is optimised
 * (docs/perf/changes.md, "Compiler threads, idle wake-ups and spinning").
 */
const WARM_LISTENERS: readonly EventListener[] = [() => undefined, (e) => void e.seq];

/** An event log of the real class that writes nowhere (EventLog.scratch); left open when the warm start ends (plugin.ts says why). */
export function throwawayEvents(): EventLog {
  const log = EventLog.scratch(WARM_EVENTS_KEPT);
  for (const l of WARM_LISTENERS) log.subscribe(l, { unrecorded: true });
  return log;
}

/** A logger that drops everything (a warm exchange that fails is counted in the throwaway handler's stats). */
export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
