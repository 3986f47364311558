/**
 * The DHCP plugin on an in-memory transport (memory-io.ts): start-up refusal
 * beside other servers, config pools and options on the wire, live reservations,
 * link pause, re-probe events, and per-client memory that a flood cannot grow.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDhcpPlugin, type DhcpPlugin } from '../../server/dhcp/plugin.ts';
import { ReservationService } from '../../server/dhcp/reservations.ts';
import { reservationScope } from '../../server/dhcp/reservation-scope.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, OPTIONS, readOption } from '../../server/dhcp/options.ts';
import type { ForeignServer } from '../../server/dhcp/probe-reply.ts';
import { MAX_FOREIGN_SERVERS, MAX_TRACKED_CLIENTS } from '../../server/dhcp/defaults.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { Config } from '../../server/config/schema.ts';
import { MemoryIo, memoryEvents } from './memory-io.ts';
import { TestHooks, clientPacket, memoryLogger, tempStore, testConfig } from './helpers.ts';
import { waitFor } from '../support/wait-for.ts';

let ts: Awaited<ReturnType<typeof tempStore>>;
let io: MemoryIo;
let events: ReturnType<typeof memoryEvents>;
let plugin: DhcpPlugin | null;

beforeEach(async () => {
  ts = await tempStore();
  io = new MemoryIo();
  events = memoryEvents();
  plugin = null;
});
afterEach(async () => {
  await plugin?.stop();
  await ts.cleanup();
});

function make(over: Partial<Config> = {}, extra: Partial<Parameters<typeof createDhcpPlugin>[0]> = {}): DhcpPlugin {
  plugin = createDhcpPlugin({
    config: testConfig({ force: false, ...over }),
    leases: ts.store.leases,
    events,
    hooks: new TestHooks(),
    log: memoryLogger(),
    io: io.factory,
    options: { probeMs: 10, reprobeMs: 0 },
    ...extra,
  });
  return plugin;
}

const reply = (buf: Uint8Array) => {
  const p = decode(buf);
  const opts = collectOptions(p);
  return { p, opts, type: messageType(opts) };
};

const server = (over: Partial<ForeignServer>): ForeignServer => ({
  serverId: '10.9.0.2',
  from: '10.9.0.2',
  offered: null,
  answered: ['pxe'],
  kind: 'proxy',
  pxe: true,
  bootFile: 'undionly.kpxe',
  malformed: null,
  ...over,
});

describe('start-up beside other servers', () => {
  it('full mode refuses beside a DHCP server (CC_ERR_FOREIGN_DHCP) and names it', async () => {
    io.probeResult = {
      servers: [server({ kind: 'dhcp', offered: '10.9.0.150', answered: ['dhcp', 'pxe'], pxe: false, bootFile: null })],
      overflow: 0,
    };
    const err = await make()
      .start()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CcError);
    expect((err as CcError).code).toBe('CC_ERR_FOREIGN_DHCP');
    expect((err as CcError).message).toMatch(/10\.9\.0\.2 offered 10\.9\.0\.150/);
    expect(io.sockets.size).toBe(0); // nothing went live
    expect(events.of('dhcp.foreign_server')).toHaveLength(1);
  });
  it('full mode refuses beside a proxyDHCP server that answers only PXE (CC_ERR_FOREIGN_PXE)', async () => {
    io.probeResult = { servers: [server({})], overflow: 0 };
    const err = (await make()
      .start()
      .catch((e: unknown) => e)) as CcError;
    expect(err.code).toBe('CC_ERR_FOREIGN_PXE');
    expect(err.message).toMatch(/proxyDHCP: answers PXE clients without an address/);
  });
  it('a hostile server inventing identities gets a bounded event and still stops full mode', async () => {
    const many = Array.from({ length: MAX_FOREIGN_SERVERS }, (_, i) =>
      server({ serverId: `10.66.${i}.1`, kind: 'dhcp', offered: '10.9.0.9' }),
    );
    io.probeResult = { servers: many, overflow: 5000 };
    const err = (await make()
      .start()
      .catch((e: unknown) => e)) as CcError;
    expect(err.code).toBe('CC_ERR_FOREIGN_DHCP');
    expect(err.message).toMatch(/and 5031 more/);
    const ev = events.of('dhcp.foreign_server')[0]!;
    expect('servers' in ev.data && ev.data.servers.length).toBe(MAX_FOREIGN_SERVERS);
    expect(JSON.stringify(ev).length).toBeLessThan(20_000);
  });
  it('--force skips the probe; proxy mode never refuses and looks for competing boot servers once at start', async () => {
    io.probeResult = { servers: [server({ kind: 'dhcp', offered: '10.9.0.150', pxe: false })], overflow: 0 };
    await make({ force: true }).start();
    expect(io.probes).toHaveLength(0);
    await plugin!.stop();
    io.probeResult = {
      servers: [
        server({ serverId: '10.9.0.254', from: '10.9.0.254', kind: 'dhcp', offered: '10.9.0.77', pxe: false, bootFile: null }),
        server({ serverId: '10.9.0.3', from: '10.9.0.3' }),
      ],
      overflow: 0,
    };
    await make({ dhcp: 'proxy', range: null }, { options: { probeMs: 10, reprobeMs: 60_000 } }).start();
    await waitFor('re-probe event', 5000, () => events.of('dhcp.foreign_server')[0]);
    const evs = events.of('dhcp.foreign_server');
    // The site's plain DHCP server is expected beside a proxy; only the other boot server is reported.
    expect(evs.map((e) => ('serverId' in e.data ? e.data.serverId : null))).toEqual(['10.9.0.3']);
    expect(evs[0]!.message).toMatch(/proxyDHCP\/PXE boot server appeared/);
  });
});

describe('serving on memory', () => {
  it('config pools and options reach the wire; relayed requests are answered to giaddr:67 from their pool', async () => {
    await make({
      force: true,
      pools: [{ subnet: '10.20.0.0', prefix: 24, start: '10.20.0.10', end: '10.20.0.20' }],
      dhcpOptions: [
        { code: 42, type: 'ips', value: '10.9.0.1' },
        { code: 3, type: 'ips', value: '10.9.0.254' },
      ],
    }).start();
    const local = await io.ask(67, clientPacket({ mac: '52:54:00:00:10:01', options: [[53, [1]]] }));
    const o = reply(local.buf);
    expect(o.type).toBe(2);
    expect(o.p.yiaddr).toBe('10.9.0.100');
    expect(readOption(o.opts, OPTIONS.NTP)).toEqual(['10.9.0.1']);
    expect(readOption(o.opts, OPTIONS.ROUTER)).toEqual(['10.9.0.254']);
    const relayed = await io.ask(67, clientPacket({ mac: '52:54:00:00:10:02', giaddr: '10.20.0.1', options: [[53, [1]]] }), {
      address: '10.20.0.1',
      port: 67,
    });
    expect(reply(relayed.buf).p.yiaddr).toBe('10.20.0.10');
    expect(relayed.to).toEqual({ address: '10.20.0.1', port: 67 });
    expect(readOption(reply(relayed.buf).opts, OPTIONS.SUBNET_MASK)).toBe('255.255.255.0');
  });

  it('the conflict check pings only when configured, and skips an address that answers', async () => {
    await make({ force: true }).start();
    await io.ask(67, clientPacket({ mac: '52:54:00:00:11:01', options: [[53, [1]]] }));
    expect(io.pings).toEqual([]);
    await plugin!.stop();
    // Offers are not written, so the next run starts from 10.9.0.100 again: make it answer a ping.
    io.inUse.add('10.9.0.100');
    await make({ force: true, conflictCheck: true }).start();
    const r = reply((await io.ask(67, clientPacket({ mac: '52:54:00:00:11:02', options: [[53, [1]]] }))).buf);
    expect(io.pings).toEqual(['10.9.0.100', '10.9.0.101']);
    expect(r.p.yiaddr).toBe('10.9.0.101');
    expect(plugin!.stats().conflicts).toBe(1);
  });

  it('reservations are read live: set, changed and removed without a restart', async () => {
    const config = testConfig({ force: true });
    const res = await ReservationService.open(ts.store.reservations, () => reservationScope(config, ts.store), events);
    await make(config, { reservations: res }).start();
    const mac = '52:54:00:00:12:01';
    const discover = () => clientPacket({ mac, options: [[53, [1]]] });
    expect(reply((await io.ask(67, discover())).buf).p.yiaddr).toBe('10.9.0.100');
    await res.setReservation(mac, '10.9.0.42', 'node-42');
    const r1 = reply((await io.ask(67, discover())).buf);
    expect(r1.p.yiaddr).toBe('10.9.0.42');
    expect(readOption(r1.opts, OPTIONS.HOSTNAME)).toBe('node-42');
    await res.setReservation(mac.toUpperCase(), '10.9.0.43');
    expect(reply((await io.ask(67, discover())).buf).p.yiaddr).toBe('10.9.0.43');
    await res.setReservation(mac, null);
    expect(reply((await io.ask(67, discover())).buf).p.yiaddr).not.toMatch(/^10\.9\.0\.4[23]$/);
    expect(events.of('dhcp.reservation')).toHaveLength(3);
  });

  it('pauses while the link is down and resumes when it is back', async () => {
    await make({ force: true }).start();
    io.link(false);
    io.deliver(67, clientPacket({ mac: '52:54:00:00:13:01', options: [[53, [1]]] }));
    expect(plugin!.stats().paused_drops).toBe(1);
    expect(plugin!.stats().serving).toBe(0);
    expect(events.of('service.error')[0]?.data).toMatchObject({ state: 'paused' });
    io.link(true);
    expect(reply((await io.ask(67, clientPacket({ mac: '52:54:00:00:13:01', options: [[53, [1]]] }))).buf).type).toBe(2);
    expect(events.of('service.state')[0]?.data).toMatchObject({ state: 'serving' });
  });
});

describe('bounded per-client memory (issue 10)', () => {
  it('a flood of random MACs and source addresses in proxy mode keeps the maps at their cap', async () => {
    await make({ dhcp: 'proxy', range: null }).start();
    const flood = MAX_TRACKED_CLIENTS + 2000;
    const mac = (i: number) =>
      `02:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255, 7].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    const uefi = (i: number) =>
      clientPacket({
        mac: mac(i),
        xid: i + 1,
        options: [
          [53, [1]],
          [60, 'PXEClient:Arch:00007:UNDI:003000'],
          [93, [0, 7]],
        ],
      });
    const req4011 = (i: number) =>
      clientPacket({
        mac: mac(i),
        xid: i + 1,
        ciaddr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        options: [
          [53, [3]],
          [60, 'PXEClient:Arch:00007:UNDI:003000'],
          [93, [0, 7]],
        ],
      });
    for (let i = 0; i < flood; i++) {
      io.deliver(67, uefi(i));
      io.deliver(4011, req4011(i), { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 4011 });
    }
    await waitFor(
      'flood answered',
      60_000,
      () => (plugin!.stats().proxy_acks ?? 0) >= flood && (plugin!.stats().proxy_offers ?? 0) >= flood,
    );
    const s = plugin!.stats();
    expect(s.tracked_strategies).toBe(MAX_TRACKED_CLIENTS);
    expect(s.tracked_ips).toBe(MAX_TRACKED_CLIENTS);
    // The most recent clients are the ones remembered; the oldest were forgotten.
    expect(plugin!.proxyStrategy(mac(flood - 1))).not.toBeNull();
    expect(plugin!.proxyStrategy(mac(0))).toBeNull();
    // A recent client's TFTP request is still matched to its MAC and proves its strategy.
    await plugin!.noteTftpRequest(`10.${((flood - 1) >> 16) & 255}.${((flood - 1) >> 8) & 255}.${(flood - 1) & 255}`);
    expect(plugin!.proxyStrategy(mac(flood - 1))?.proven).toBe(true);
  }, 120_000);

  it('the cap is a setting: a smaller one holds too', async () => {
    await make({ dhcp: 'proxy', range: null }, { options: { probeMs: 10, reprobeMs: 0, maxTrackedClients: 50 } }).start();
    for (let i = 0; i < 300; i++)
      io.deliver(
        67,
        clientPacket({
          mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
          options: [
            [53, [1]],
            [60, 'PXEClient:Arch:00007:UNDI:003000'],
            [93, [0, 7]],
          ],
        }),
      );
    await waitFor('answered', 20_000, () => (plugin!.stats().proxy_offers ?? 0) >= 300);
    expect(plugin!.stats().tracked_strategies).toBe(50);
  });
});
