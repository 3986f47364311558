/**
 * The DHCP warm start (server/dhcp/warm-start.ts) on an in-memory transport: it really runs exchanges (replies
 * built) and leaves no trace: no datagram sent, no lease in the real store, no event, no boot hook called, no
 * ping (conflict check on), no proxy strategy remembered; it reports completion in stats and `warmStart()`.
 * Off by config, nothing runs. The flag `--dhcp-warm-start` goes through the one config path.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDhcpPlugin, type DhcpPlugin } from '../../server/dhcp/plugin.ts';
import { runWarmStart } from '../../server/dhcp/warm-start.ts';
import type { DhcpHandler } from '../../server/dhcp/handler.ts';
import { loadServeConfig, type MachineView } from '../../server/config/load.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { BootSighting, LoaderPrefs } from '../../server/core/boot-hooks.ts';
import type { Config } from '../../server/config/schema.ts';
import type { LeaseDoc } from '../../server/store/docs.ts';
import { MemoryIo, memoryEvents } from './memory-io.ts';
import { TestHooks, memoryLogger, tempStore, testConfig } from './helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Hooks that count every call. The warm start must record no sighting (a sighting creates a node); it runs the
 * read-only lookups, so that they are optimised before the first real packet (warm-start.ts handlerHooks).
 */
class CountingHooks extends TestHooks {
  sightings = 0;
  lookups = 0;
  override sawBoot(s: BootSighting): Promise<number | null> {
    this.sightings++;
    return super.sawBoot(s);
  }
  override loaderPrefsFor(mac: string): Promise<LoaderPrefs> {
    this.lookups++;
    return super.loaderPrefsFor(mac);
  }
  override nodeIdForMac(mac: string): Promise<number | null> {
    this.lookups++;
    return super.nodeIdForMac(mac);
  }
}

let ts: Awaited<ReturnType<typeof tempStore>>;
let io: MemoryIo;
let events: ReturnType<typeof memoryEvents>;
let hooks: CountingHooks;
let log: ReturnType<typeof memoryLogger>;
let plugin: DhcpPlugin | null;

beforeEach(async () => {
  ts = await tempStore();
  io = new MemoryIo();
  events = memoryEvents();
  hooks = new CountingHooks();
  log = memoryLogger();
  plugin = null;
});
afterEach(async () => {
  await plugin?.stop();
  await ts.cleanup();
});

/** A lease already in the store before start: it must be there, unchanged, afterwards. */
const KEPT: LeaseDoc = {
  _id: '02:00:00:00:00:01',
  mac: '02:00:00:00:00:01',
  ip: '10.9.0.100',
  state: 'bound',
  expires_at: Date.now() + 3_600_000,
  pool: 'main',
  hostname: null,
  client_id: null,
  updated_at: Date.now(),
};

function make(over: Partial<Config>, doras = 150, appStarted?: Promise<void>): DhcpPlugin {
  plugin = createDhcpPlugin({
    config: testConfig({ force: true, dhcpWarmStart: true, conflictCheck: true, ...over }),
    leases: ts.store.leases,
    events,
    hooks,
    log,
    io: io.factory,
    options: { reprobeMs: 0, warmStartDoras: doras },
    ...(appStarted ? { appStarted } : {}),
  });
  return plugin;
}

async function untouched(): Promise<void> {
  expect(io.sent).toEqual([]);
  expect(io.pings).toEqual([]);
  expect(events.list).toEqual([]);
  expect(hooks.sightings).toBe(0);
  expect(hooks.seen).toEqual([]);
  expect(await ts.store.leases.find({})).toEqual([KEPT]);
  const s = plugin!.stats();
  // The real handler counted nothing; per-client memory of the real plugin is empty.
  for (const k of ['received', 'offers', 'acks', 'proxy_offers', 'proxy_acks', 'sent', 'tracked_strategies', 'tracked_ips'])
    expect([k, s[k] ?? 0]).toEqual([k, 0]);
}

describe('DHCP warm start', () => {
  it('full mode: runs real DORAs (every message answered) and leaves store, events, hooks and sockets untouched', async () => {
    await ts.store.leases.insert(KEPT);
    const p = make({});
    await p.start();
    await waitFor('warm start done', 60_000, () => p.warmStart().state === 'done');
    const w = p.warmStart();
    expect(w.exchanges).toBe(300);
    // Every DISCOVER got an OFFER and every REQUEST an ACK, built and dropped.
    expect(w.replies).toBe(300);
    // It ends with one full collection (server/system/full-gc.ts, tested there against Node's GC observer).
    expect(w.collectMs).toBeGreaterThan(0);
    expect(p.stats()).toMatchObject({ warm_start_done: 1, warm_start_exchanges: 300, warm_start_replies: 300 });
    expect(log.lines).toContainEqual({ level: 'info', msg: 'dhcp: warm start done' });
    expect(io.sockets.size).toBe(1); // the real socket is open, and nothing was sent on it
    // The core's read-only lookups ran (the node by MAC for each message's event, the loader settings for each
    // boot client's reply); no sighting did.
    expect(hooks.lookups).toBeGreaterThanOrEqual(300);
    await untouched();
  });

  it('proxy mode: PXE and iPXE clients answered on 67 and 4011, nothing remembered', async () => {
    await ts.store.leases.insert(KEPT);
    const p = make({ dhcp: 'proxy', range: null, conflictCheck: false });
    await p.start();
    await waitFor('warm start done', 60_000, () => p.warmStart().state === 'done');
    const w = p.warmStart();
    expect(w.exchanges).toBe(300);
    // An OS client is not a boot client: proxyDHCP stays silent to it. 150 DORAs are 75 clients with two each, and
    // the kinds go PXE, PXE, iPXE, iPXE, OS, OS: 24 of the 75 are OS clients, so 51 x 2 DORAs get both replies.
    expect(w.replies).toBe(51 * 2 * 2);
    expect(io.sockets.size).toBe(2);
    expect(hooks.lookups).toBeGreaterThan(0);
    await untouched();
  });

  it('off by config: no warm start runs', async () => {
    const p = make({ dhcpWarmStart: false });
    await p.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(p.warmStart()).toEqual({ state: 'off', exchanges: 0, replies: 0, ms: 0, cpuMs: 0, collectMs: 0 });
    expect(p.stats().warm_start_exchanges).toBe(0);
    expect(log.lines.some((l) => l.msg === 'dhcp: warm start done')).toBe(false);
  });

  it("its closing full collection waits for the appliance's start; the exchanges do not", async () => {
    let up: () => void = () => undefined;
    const p = make({}, 150, new Promise<void>((resolve) => (up = resolve)));
    await p.start();
    await waitFor('every warm exchange', 60_000, () => p.warmStart().exchanges === 300);
    // Done with its exchanges, it still reports running and has not collected.
    await new Promise((r) => setTimeout(r, 300));
    expect(p.warmStart()).toMatchObject({ state: 'running', exchanges: 300, collectMs: 0 });
    expect(log.lines.some((l) => l.msg === 'dhcp: warm start done')).toBe(false);
    up();
    await waitFor('warm start done', 60_000, () => p.warmStart().state === 'done');
    expect(p.warmStart()).toMatchObject({ exchanges: 300, replies: 300 });
    expect(p.warmStart().collectMs).toBeGreaterThan(0);
  });

  it('stopped before the appliance has started: no collection, and stop returns', async () => {
    const p = make({}, 150, new Promise<void>(() => undefined));
    await p.start();
    await waitFor('every warm exchange', 60_000, () => p.warmStart().exchanges === 300);
    await p.stop();
    plugin = null;
    expect(p.warmStart()).toMatchObject({ exchanges: 300, collectMs: 0 });
  });

  it('stopping during the warm start ends it early', async () => {
    const p = make({}, 1_000_000);
    await p.start();
    await waitFor('some warm exchanges', 60_000, () => p.warmStart().exchanges > 0);
    await p.stop();
    plugin = null;
    const w = p.warmStart();
    expect(w.state).toBe('off');
    expect(w.collectMs).toBe(0);
    expect(w.exchanges).toBeLessThan(2_000_000);
  });
});

describe('warm start clients', () => {
  it('each runs two DORAs in a row on one lease table (new, then returning), and clients differ', async () => {
    // A recording handler: which handler (slice) saw which MAC and message type; a DISCOVER gets an offer.
    const seen: { handler: number; mac: string; type: number }[] = [];
    let handlers = 0;
    const newHandler = async () => {
      const id = handlers++;
      return {
        handle: async (buf: Uint8Array) => {
          const b = Buffer.from(buf);
          const type = b[b.indexOf(Buffer.from([53, 1]), 240) + 2]!;
          seen.push({ handler: id, mac: b.subarray(28, 34).toString('hex'), type });
          const reply = Buffer.alloc(300);
          reply.set([10, 9, 1, 7], 16);
          return type === 1 ? [{ buf: reply, to: { address: '10.9.0.2', port: 67 } }] : [];
        },
      } as unknown as DhcpHandler;
    };
    // An odd slice is made even so a client's two DORAs never straddle two handlers.
    const r = await runWarmStart({
      mode: 'full',
      serverIp: '10.9.0.1',
      prefix: 16,
      pools: [],
      doras: 12,
      slice: 3,
      newHandler,
      progress: () => undefined,
      stopped: () => false,
    });
    expect(r).toMatchObject({ exchanges: 24, complete: true });
    expect(seen.map((x) => x.type)).toEqual(Array.from({ length: 12 }, () => [1, 3]).flat());
    const doras = Array.from({ length: 12 }, (_, k) => seen[2 * k]!);
    for (let k = 0; k < 12; k += 2) {
      expect(doras[k + 1]!.mac).toBe(doras[k]!.mac);
      expect(doras[k + 1]!.handler).toBe(doras[k]!.handler);
    }
    expect(new Set(doras.map((d) => d.mac)).size).toBe(6);
  });
});

describe('--dhcp-warm-start', () => {
  const machine: MachineView = {
    interfaces: () => ({
      eth1: [
        { address: '10.9.0.1', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:00:00:01', internal: false, cidr: '10.9.0.1/24' },
      ],
    }),
    ifindex: (n: string) => (n === 'eth1' ? 4 : null),
    env: {},
  };
  const base = ['--iface', 'eth1', '--dhcp', 'full', '--range', '10.9.0.100-10.9.0.199'];
  it('is on by default, off with "off", and refuses anything else', () => {
    expect(loadServeConfig(base, machine).dhcpWarmStart).toBe(true);
    expect(loadServeConfig([...base, '--dhcp-warm-start', 'on'], machine).dhcpWarmStart).toBe(true);
    expect(loadServeConfig([...base, '--dhcp-warm-start', 'off'], machine).dhcpWarmStart).toBe(false);
    const e = (() => {
      try {
        loadServeConfig([...base, '--dhcp-warm-start', 'maybe'], machine);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(CcError);
    expect((e as CcError).code).toBe('CC_ERR_CONFIG_INVALID');
  });
});
