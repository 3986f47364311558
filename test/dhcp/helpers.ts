/** Shared test parts: a core stand-in for BootHooks, a real store, a client packet builder. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../server/store/store.ts';
import { EventLog, type EventSink } from '../../server/events/event-log.ts';
import { handlerEvents } from '../../server/dhcp/warm-start.ts';
import type { BootHooks, BootSighting, LoaderPrefs } from '../../server/core/boot-hooks.ts';
import type { Logger } from '../../server/core/plugin.ts';
import type { Config } from '../../server/config/schema.ts';
import { encodeClientRequest } from '../../server/dhcp/client-request.ts';
import { DhcpHandler, type HandlerDeps } from '../../server/dhcp/handler.ts';
import { LeaseTable, fixedReservations, makePool } from '../../server/dhcp/lease-table.ts';
import { ProxyStrategies } from '../../server/dhcp/proxy-strategy.ts';

/** A small in-test core: numbers MACs as they are first seen, per-MAC loader settings. */
export class TestHooks implements BootHooks {
  readonly seen: BootSighting[] = [];
  readonly ids = new Map<string, number>();
  readonly loaders = new Map<string, 'ipxe.efi' | 'snponly.efi'>();
  /** MACs whose UEFI gets the signed shim chain. */
  readonly secure = new Set<string>();
  /** MACs whose firmware showed itself as U-Boot. */
  readonly uboot = new Set<string>();
  async sawBoot(s: BootSighting): Promise<number | null> {
    this.seen.push(s);
    let id = this.ids.get(s.mac);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(s.mac, id);
    }
    return id;
  }
  async loaderPrefsFor(mac: string): Promise<LoaderPrefs> {
    return { efiLoader: this.loaders.get(mac) ?? 'ipxe.efi', secureChain: this.secure.has(mac), uboot: this.uboot.has(mac) };
  }
  async nodeIdForMac(mac: string): Promise<number | null> {
    return this.ids.get(mac) ?? null;
  }
}

/** A logger that keeps what it was told (tests assert on errors). */
export function memoryLogger(): Logger & { lines: { level: string; msg?: string }[] } {
  const lines: { level: string; msg?: string }[] = [];
  const at = (level: string) => (_o: unknown, msg?: string) => void lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A real on-disk store in a fresh temp dir, plus its event log. */
export async function tempStore(): Promise<{
  dir: string;
  store: Store;
  events: EventLog;
  reopen(): Promise<{ store: Store; events: EventLog }>;
  cleanup(): Promise<void>;
}> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-dhcp-'));
  let store = await openStore(dir, 0);
  let events = await EventLog.open(store.eventsFile, store.legacyEventsFile, 100_000);
  return {
    dir,
    store,
    events,
    async reopen() {
      await events.close();
      await store.close();
      store = await openStore(dir, 0);
      events = await EventLog.open(store.eventsFile, store.legacyEventsFile, 100_000);
      return { store, events };
    },
    async cleanup() {
      await events.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A complete frozen config for the DHCP plugin. */
export function testConfig(over: Partial<Config> = {}): Config {
  return Object.freeze({
    iface: 'lo',
    ifindex: 1,
    address: { ip: '10.9.0.1', prefix: 24 },
    dhcp: 'full',
    range: { start: '10.9.0.100', end: '10.9.0.199' },
    force: true,
    dataDir: '/nonexistent',
    http: { host: '0.0.0.0', port: 8026 },
    publicUrl: 'http://10.9.0.1:8026',
    admin: { host: '127.0.0.1', port: 8027, exposed: false },
    lab: null,
    microkernelDir: null,
    tftpRoot: null,
    efiLoader: 'ipxe.efi',
    logLevel: 'silent',
    rateLimitPerMin: 600,
    pools: [],
    dhcpOptions: [],
    conflictCheck: false,
    // The test kits start hundreds of plugins: no warm start unless a test asks (test/dhcp/warm-start.test.ts).
    dhcpWarmStart: false,
    ports: { dhcp: 67, proxy: 4011, tftp: 69 },
    ...over,
  } as Config);
}

/** Fields of a client request; options as [code, bytes]. */
export interface ClientMsg {
  mac: string;
  xid?: number;
  ciaddr?: string;
  giaddr?: string;
  flags?: number;
  options: [number, Uint8Array | number[] | string][];
}

/** Build a BOOTREQUEST the way a client would (padded to 300 bytes). */
export function clientPacket(m: ClientMsg): Uint8Array {
  return encodeClientRequest({
    mac: Uint8Array.from(m.mac.split(':').map((h) => parseInt(h, 16))),
    xid: m.xid ?? 0x1234abcd,
    flags: m.flags,
    ciaddr: m.ciaddr,
    giaddr: m.giaddr,
    options: m.options.map(([code, v]) => [code, typeof v === 'string' ? Buffer.from(v, 'latin1') : Uint8Array.from(v)]),
  });
}

/** Bytes of a dotted quad. */
export const ip4 = (s: string): number[] => s.split('.').map(Number);

/**
 * A full-mode DhcpHandler on 10.9.0.1 (pool 10.9.0.100-103, no reservations, leases kept nowhere, no conflict
 * check, no event budget) with what the test names replaced: the one place tests build a handler from parts. The
 * events go through the plugin's own wrapper (warm-start.ts handlerEvents).
 */
export function testHandler(deps: Partial<Omit<HandlerDeps, 'events'>> & { events: EventSink }): DhcpHandler {
  return new DhcpHandler({
    mode: 'full',
    serverIp: '10.9.0.1',
    prefix: 24,
    pools: [makePool('main', '10.9.0.100', '10.9.0.103', 24)],
    table: new LeaseTable(fixedReservations([])),
    publicUrl: 'http://10.9.0.1:8026',
    leaseS: 600,
    extraOptions: [],
    persist: async () => undefined,
    remove: async () => undefined,
    hooks: new TestHooks(),
    log: memoryLogger(),
    strategies: new ProxyStrategies(),
    conflictCheck: null,
    noteClientIp: () => undefined,
    now: () => Date.now(),
    eventLimit: { perMin: 0 },
    ...deps,
    events: handlerEvents(deps.events),
  });
}
