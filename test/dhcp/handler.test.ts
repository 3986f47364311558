/** The server decisions on a real on-disk store, driven packet by packet (no sockets). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { DhcpHandler, type HandlerDeps } from '../../server/dhcp/handler.ts';
import { LeaseTable, fixedReservations, makePool } from '../../server/dhcp/lease-table.ts';
import { ProxyStrategies } from '../../server/dhcp/proxy-strategy.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, OPT, OPTIONS, readOption, subOptions } from '../../server/dhcp/options.ts';
import type { Store } from '../../server/store/store.ts';
import type { EventLog } from '../../server/events/event-log.ts';
import type { CcEvent } from '../../contract/index.ts';
import { TestHooks, clientPacket, ip4, tempStore, testHandler } from './helpers.ts';
import { dhcpFromPcap, dhcpFromHex } from './fixture-packets.ts';

const SERVER = '10.9.0.1';
const CLIENT = { address: '0.0.0.0', port: 68 };
let ts: Awaited<ReturnType<typeof tempStore>>;
let hooks: TestHooks;
let seen: CcEvent[];
let clock: number;
/** The lease table of the handler built last. */
let table: LeaseTable;

function handler(store: Store, events: EventLog, over: Partial<HandlerDeps> = {}): DhcpHandler {
  table = over.table ?? new LeaseTable(fixedReservations([{ mac: '52:54:00:aa:00:99', ip: '10.9.0.50', hostname: 'reserved-one' }]));
  return testHandler({
    serverIp: SERVER,
    pools: [makePool('main', '10.9.0.100', '10.9.0.103', 24), makePool('rack2', '10.20.0.10', '10.20.0.20', 24)],
    table,
    persist: async (d, durable) => void (await store.leases.put(d, { durable })),
    remove: async (mac) => void (await store.leases.remove({ _id: mac })),
    hooks,
    events,
    now: () => clock,
    ...over,
  });
}

async function ask(h: DhcpHandler, msg: Parameters<typeof clientPacket>[0], from = CLIENT, proxyPort = false) {
  const out = await h.handle(clientPacket(msg), from, proxyPort);
  return out.map((o) => {
    const p = decode(o.buf);
    const opts = collectOptions(p);
    return { p, opts, type: messageType(opts), to: o.to, len: o.buf.length };
  });
}

beforeEach(async () => {
  ts = await tempStore();
  hooks = new TestHooks();
  seen = [];
  ts.events.subscribe((e) => void seen.push(e));
  clock = 1_700_000_000_000;
});
afterEach(async () => ts.cleanup());

describe('full server', () => {
  it('DORA: offer, ACK on disk before it is returned, renew, same address after restart', async () => {
    const h = handler(ts.store, ts.events);
    const mac = '52:54:00:00:00:01';
    const [offer] = await ask(h, { mac, options: [[53, [1]]] });
    expect(offer!.type).toBe(2);
    expect(offer!.p.yiaddr).toBe('10.9.0.100');
    expect(offer!.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(offer!.len).toBeGreaterThanOrEqual(300);
    expect(readOption(offer!.opts, OPTIONS.SERVER_ID)).toBe(SERVER);
    expect(readOption(offer!.opts, OPTIONS.LEASE_TIME)).toBe(600);
    expect(readOption(offer!.opts, OPTIONS.SUBNET_MASK)).toBe('255.255.255.0');
    // The appliance's own (isolated) subnet: it is the nominal router and name server (d-i asks otherwise).
    expect(readOption(offer!.opts, OPTIONS.ROUTER)).toEqual([SERVER]);
    expect(readOption(offer!.opts, OPTIONS.DNS)).toEqual([SERVER]);
    expect(await ts.store.leases.count({ state: 'bound' })).toBe(0);
    const syncs = ts.store.leases.fsync.syncs;
    const [ack] = await ask(h, {
      mac,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(ack!.type).toBe(5);
    expect(ack!.p.yiaddr).toBe('10.9.0.100');
    // The ACK came back only after an fdatasync of the lease file, and the line is in the file.
    expect(ts.store.leases.fsync.syncs).toBeGreaterThan(syncs);
    const onDisk = await fs.readFile(ts.store.leases.filename!, 'utf8');
    expect(onDisk).toContain('"ip":"10.9.0.100"');
    expect(onDisk).toContain('"state":"bound"');
    // RENEWING: unicast with ciaddr, reply unicast to ciaddr:68.
    clock += 300_000;
    const [renew] = await ask(h, { mac, ciaddr: '10.9.0.100', options: [[53, [3]]] }, { address: '10.9.0.100', port: 68 });
    expect(renew!.type).toBe(5);
    expect(renew!.to).toEqual({ address: '10.9.0.100', port: 68 });
    // Restart: a new handler loads the leases; another MAC does not get the address, the same MAC does.
    const { store: s2, events: e2 } = await ts.reopen();
    const h2 = handler(s2, e2);
    table.load(await s2.leases.find({}));
    const [other] = await ask(h2, { mac: '52:54:00:00:00:02', options: [[53, [1]]] });
    expect(other!.p.yiaddr).not.toBe('10.9.0.100');
    const [again] = await ask(h2, { mac, options: [[53, [1]]] });
    expect(again!.p.yiaddr).toBe('10.9.0.100');
    const [reboot] = await ask(h2, {
      mac,
      options: [
        [53, [3]],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(reboot!.type).toBe(5);
  });

  it('NAKs a wrong network and a taken address; stays silent when the client chose another server', async () => {
    const h = handler(ts.store, ts.events);
    const [nak] = await ask(h, {
      mac: '52:54:00:00:00:03',
      options: [
        [53, [3]],
        [50, ip4('192.168.1.5')],
      ],
    });
    expect(nak!.type).toBe(6);
    expect(nak!.to.address).toBe('255.255.255.255');
    expect(nak!.p.yiaddr).toBe('0.0.0.0');
    await ask(h, { mac: '52:54:00:00:00:04', options: [[53, [1]]] });
    const [ack] = await ask(h, {
      mac: '52:54:00:00:00:04',
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(ack!.type).toBe(5);
    // A client we have a record of (it was offered 10.9.0.101) asks in INIT-REBOOT for a taken address: NAK.
    await ask(h, { mac: '52:54:00:00:00:05', options: [[53, [1]]] });
    const [taken] = await ask(h, {
      mac: '52:54:00:00:00:05',
      options: [
        [53, [3]],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(taken!.type).toBe(6);
    await ask(h, { mac: '52:54:00:00:00:06', options: [[53, [1]]] });
    expect(
      await ask(h, {
        mac: '52:54:00:00:00:06',
        options: [
          [53, [3]],
          [54, ip4('10.9.0.254')],
          [50, ip4('10.9.0.101')],
        ],
      }),
    ).toEqual([]);
    expect(h.stats.chose_other_server).toBe(1);
    expect(seen.filter((e) => e.type === 'dhcp.nak').length).toBe(2);
  });

  it('DECLINE quarantines the address, RELEASE keeps the MAC -> address association, INFORM gets no lease time', async () => {
    const h = handler(ts.store, ts.events);
    const a = '52:54:00:00:00:07';
    await ask(h, { mac: a, options: [[53, [1]]] });
    await ask(h, {
      mac: a,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    await ask(h, {
      mac: a,
      options: [
        [53, [4]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    const [next] = await ask(h, { mac: a, options: [[53, [1]]] });
    expect(next!.p.yiaddr).not.toBe('10.9.0.100');
    const [other] = await ask(h, {
      mac: '52:54:00:00:00:08',
      options: [
        [53, [1]],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(other!.p.yiaddr).not.toBe('10.9.0.100');
    const ip = next!.p.yiaddr;
    await ask(h, {
      mac: a,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4(ip)],
      ],
    });
    expect(
      await ask(h, {
        mac: a,
        ciaddr: ip,
        options: [
          [53, [7]],
          [54, ip4(SERVER)],
        ],
      }),
    ).toEqual([]);
    expect((await ts.store.leases.findOne({ _id: a }))?.state).toBe('released');
    const [back] = await ask(h, { mac: a, options: [[53, [1]]] });
    expect(back!.p.yiaddr).toBe(ip);
    const [inf] = await ask(h, { mac: a, ciaddr: ip, options: [[53, [8]]] }, { address: ip, port: 68 });
    expect(inf!.type).toBe(5);
    expect(inf!.p.yiaddr).toBe('0.0.0.0');
    expect(inf!.opts.has(OPT.LEASE_TIME)).toBe(false);
    expect(inf!.to).toEqual({ address: ip, port: 68 });
  });

  it('a flood of DISCOVERs at an exhausted pool writes one warning per 10 s, then one with the count', async () => {
    const warned: { o: Record<string, unknown>; m: string | undefined }[] = [];
    const quiet = { debug() {}, info() {}, error() {} };
    const log = { ...quiet, warn: (o: unknown, m?: string) => void warned.push({ o: o as Record<string, unknown>, m }) };
    const h = handler(ts.store, ts.events, { log });
    for (let i = 0; i < 4; i++) expect(await ask(h, { mac: `52:54:00:00:02:0${i}`, options: [[53, [1]]] })).toHaveLength(1);
    const forged = (i: number) => `02:66:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    for (let i = 0; i < 300; i++) expect(await ask(h, { mac: forged(i), options: [[53, [1]]] })).toHaveLength(0);
    expect(h.stats.exhausted).toBe(300);
    expect(warned).toEqual([{ o: { pool: 'main', mac: forged(0) }, m: 'dhcp: pool exhausted' }]);
    clock += 10_000;
    await ask(h, { mac: forged(300), options: [[53, [1]]] });
    expect(warned[1]).toEqual({ o: { pool: 'main', mac: forged(300), unlogged: 299 }, m: 'dhcp: pool exhausted' });
  });

  it('reservations, pool exhaustion, relays (pool by giaddr, reply to giaddr:67, option 82 echoed last)', async () => {
    const h = handler(ts.store, ts.events);
    const [r] = await ask(h, { mac: '52:54:00:aa:00:99', options: [[53, [1]]] });
    expect(r!.p.yiaddr).toBe('10.9.0.50');
    expect(Buffer.from(r!.opts.get(OPT.HOSTNAME)!).toString()).toBe('reserved-one');
    const given = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const out = await ask(h, { mac: `52:54:00:00:01:0${i}`, options: [[53, [1]]] });
      for (const o of out) given.add(o.p.yiaddr);
    }
    expect(given.size).toBe(4);
    expect(h.stats.exhausted).toBe(1);
    const agent = [1, 4, 0x65, 0x74, 0x68, 0x31];
    const [rel] = await ask(
      h,
      {
        mac: '52:54:00:00:02:01',
        giaddr: '10.20.0.1',
        options: [
          [53, [1]],
          [82, agent],
        ],
      },
      { address: '10.20.0.1', port: 67 },
    );
    expect(rel!.p.yiaddr).toBe('10.20.0.10');
    expect(rel!.to).toEqual({ address: '10.20.0.1', port: 67 });
    expect(rel!.p.giaddr).toBe('10.20.0.1');
    expect(rel!.opts.has(OPT.ROUTER)).toBe(false); // a relayed rack has its own gateway
    const last = rel!.p.options.filter((o) => o.code !== 0).at(-1);
    expect(last).toEqual({ code: 82, data: Uint8Array.from(agent) });
    expect(await ask(h, { mac: '52:54:00:00:02:02', giaddr: '172.16.0.1', options: [[53, [1]]] })).toEqual([]);
    expect(h.stats.no_pool).toBe(1);
  });

  it('answers firmware with the right file and events carry the firmware facts', async () => {
    const h = handler(ts.store, ts.events);
    const fileOf = (p: { file: Uint8Array }) => Buffer.from(p.file).toString('latin1').replace(/\0+$/, '');
    // A Raspberry Pi boot ROM (OUI b8:27:eb, arch 0): an address, but no x86 loader, and an event saying why.
    const pi = dhcpFromHex('rpi-bootloader-pxe-arch0-discover.hex');
    const [o0] = (await h.handle(pi, CLIENT, false)).map((o) => decode(o.buf));
    expect(o0!.yiaddr).not.toBe('0.0.0.0');
    expect(fileOf(o0!)).toBe('');
    expect(collectOptions(o0!).has(OPT.VENDOR_CLASS)).toBe(false);
    expect(seen.filter((e) => e.type === 'dhcp.unsupported').map((e) => e.message)).toEqual([
      expect.stringMatching(/^b8:27:eb:9b:65:d4 \(option 93 = 0\) gets no boot file: a Raspberry Pi boot ROM/),
    ]);
    // The same request from a PC's NIC (QEMU's OUI): BIOS PXE gets undionly.kpxe.
    const bios = Buffer.from(pi);
    bios.set([0x52, 0x54, 0x00, 0x11, 0x22, 0x33], 28);
    const [o1] = (await h.handle(bios, CLIENT, false)).map((o) => decode(o.buf));
    const c1 = collectOptions(o1!);
    expect(fileOf(o1!)).toBe('undionly.kpxe');
    expect(o1!.siaddr).toBe(SERVER);
    expect(Buffer.from(c1.get(OPT.VENDOR_CLASS)!).toString()).toBe('PXEClient');
    expect(subOptions(c1.get(OPT.VENDOR_SPECIFIC)!, 43).get(6)).toEqual(Uint8Array.of(8));
    expect(c1.get(OPT.CLIENT_GUID)).toEqual(collectOptions(decode(bios)).get(OPT.CLIENT_GUID));
    const http = dhcpFromHex('x86_64-uefi-httpclient-arch16-discover.hex');
    const mac16 = '60:be:b4:06:13:37';
    hooks.loaders.set(mac16, 'snponly.efi');
    const [o2] = (await h.handle(http, CLIENT, false)).map((o) => decode(o.buf));
    expect(fileOf(o2!)).toBe('http://10.9.0.1:8026/ipxe/snponly.efi');
    expect(Buffer.from(collectOptions(o2!).get(OPT.VENDOR_CLASS)!).toString()).toBe('HTTPClient');
    const ipxe = dhcpFromPcap('qemu-seabios-ipxe-bios-pxe.pcap')[0]!.payload;
    const [o3] = (await h.handle(ipxe, CLIENT, false)).map((o) => decode(o.buf));
    const c3 = collectOptions(o3!);
    expect(fileOf(o3!)).toBe('http://10.9.0.1:8026/boot.ipxe');
    expect(subOptions(c3.get(OPT.IPXE_ENCAP)!, 175).get(176)).toEqual(Uint8Array.of(1));
    expect(c3.has(OPT.VENDOR_SPECIFIC)).toBe(false);
    const disc = seen.filter((e) => e.type === 'dhcp.discover');
    expect(disc.map((e) => e.data.arch)).toEqual([0, 0, 16, 0]);
    expect(disc[2]!.data.vendor_class).toBe('HTTPClient:Arch:00016:UNDI:003016');
    expect(disc[3]!.data.user_class).toBe('iPXE');
    expect(disc[1]!.data.guid).toBe('bd9b65d4-65d4-bd9b-d465-9bbdd4659bbd');
    expect(disc[0]!.node_id).toBe(1);
    expect(seen.filter((e) => e.type === 'dhcp.offer').length).toBe(4);
    expect(hooks.seen.map((s) => s.arch)).toEqual([0, 0, 16, 0]);
    // The Pi's repeated DISCOVER is answered again, but the event is not repeated (one per MAC a minute).
    await h.handle(pi, CLIENT, false);
    expect(seen.filter((e) => e.type === 'dhcp.unsupported').length).toBe(1);
  });

  it('a boot file longer than the file field goes in option 67 alone, the field left empty', async () => {
    // RFC 2131 2: `file` holds 127 characters and a NUL. iPXE reads a populated field before option 67, so a copy cut
    // to fit there would be the URL it fetched. An operator's long public URL makes the boot script's URL that long.
    const publicUrl = `http://${'boot-appliance-with-a-long-name.'.repeat(3)}rack-17.example.internal:8026`;
    const h = handler(ts.store, ts.events, { publicUrl });
    const want = `${publicUrl}/boot.ipxe`;
    expect(want.length).toBeGreaterThan(127);
    const [o] = (await h.handle(dhcpFromPcap('qemu-seabios-ipxe-bios-pxe.pcap')[0]!.payload, CLIENT, false)).map((x) => decode(x.buf));
    expect(o!.file.every((b) => b === 0)).toBe(true);
    expect(Buffer.from(collectOptions(o!).get(OPT.BOOTFILE)!).toString('latin1')).toBe(want);
    // A name that fits still goes in the field, and no option 67 beside it.
    const [short] = (
      await handler(ts.store, ts.events).handle(dhcpFromPcap('qemu-seabios-ipxe-bios-pxe.pcap')[0]!.payload, CLIENT, false)
    ).map((x) => decode(x.buf));
    expect(Buffer.from(short!.file).toString('latin1').replace(/\0+$/, '')).toBe('http://10.9.0.1:8026/boot.ipxe');
    expect(collectOptions(short!).has(OPT.BOOTFILE)).toBe(false);
  });

  it('counts and drops malformed packets and keeps serving', async () => {
    const h = handler(ts.store, ts.events);
    const good = clientPacket({ mac: '52:54:00:00:03:01', options: [[53, [1]]] });
    const bad = Buffer.from(good);
    bad[241] = 250;
    expect(await h.handle(bad.subarray(0, 260), CLIENT, false)).toEqual([]);
    expect(await h.handle(new Uint8Array(10), CLIENT, false)).toEqual([]);
    expect(h.stats.malformed).toBe(2);
    expect(seen.filter((e) => e.type === 'dhcp.malformed').length).toBe(1);
    expect((await h.handle(good, CLIENT, false)).length).toBe(1);
    // Our own probe looping back is never answered.
    expect(await h.handle(good, { address: SERVER, port: 68 }, false)).toEqual([]);
  });
});

describe('proxyDHCP', () => {
  it('answers only PXE clients, never an address, option 54 always; 4011 REQUEST gets an ACK to its source', async () => {
    const h = handler(ts.store, ts.events, { mode: 'proxy', pools: [] });
    expect(await ask(h, { mac: '52:54:00:00:04:01', options: [[53, [1]]] })).toEqual([]);
    const ovmf = dhcpFromPcap('lab-ovmf-x64-uefi-proxydhcp-4011.pcap');
    const [offer] = (await h.handle(ovmf[0]!.payload, CLIENT, false)).map((o) => ({ p: decode(o.buf), to: o.to }));
    const oo = collectOptions(offer!.p);
    expect(messageType(oo)).toBe(2);
    expect(offer!.p.yiaddr).toBe('0.0.0.0');
    expect(readOption(oo, OPTIONS.SERVER_ID)).toBe(SERVER);
    expect(oo.has(OPT.VENDOR_SPECIFIC)).toBe(false); // first strategy: omit 43 -> firmware asks on 4011
    expect(oo.has(OPT.LEASE_TIME)).toBe(false);
    const req4011 = ovmf.find((d) => d.dstPort === 4011)!;
    const [ack] = await h.handle(req4011.payload, { address: req4011.srcIp, port: 4011 }, true);
    const ap = decode(ack!.buf);
    expect(messageType(collectOptions(ap))).toBe(5);
    expect(Buffer.from(ap.file).toString('latin1').replace(/\0+$/, '')).toBe('ipxe.efi');
    expect(ack!.to).toEqual({ address: req4011.srcIp, port: 4011 });
    // A REQUEST on 67 is the other server's business.
    expect(await h.handle(ovmf[3]!.payload, CLIENT, false)).toEqual([]);
    expect(await ts.store.leases.count()).toBe(0);
  });

  it('flips the UEFI strategy when a new attempt comes back without reaching TFTP, and keeps a proven one', async () => {
    const strategies = new ProxyStrategies();
    const h = handler(ts.store, ts.events, { mode: 'proxy', pools: [], strategies });
    const mac = '52:54:00:00:05:01';
    const uefi = (xid: number) => ({
      mac,
      xid,
      options: [
        [53, [1]],
        [60, 'PXEClient:Arch:00007:UNDI:003000'],
        [93, [0, 7]],
      ] as [number, number[] | string][],
    });
    const has43 = async (xid: number) => (await ask(h, uefi(xid)))[0]!.opts.has(OPT.VENDOR_SPECIFIC);
    expect(await has43(1)).toBe(false);
    expect(await has43(1)).toBe(false); // a retransmission of the same attempt
    clock += 10_000;
    expect(await has43(2)).toBe(true);
    expect(seen.some((e) => e.type === 'dhcp.proxy')).toBe(true);
    expect(strategies.proven(mac)).toEqual({ strategy: 'send43', newly: true });
    expect(strategies.proven(mac)).toEqual({ strategy: 'send43', newly: false });
    clock += 10_000;
    expect(await has43(3)).toBe(true);
    const bios = await ask(h, {
      mac: '52:54:00:00:05:02',
      options: [
        [53, [1]],
        [60, 'PXEClient:Arch:00000:UNDI:002001'],
        [93, [0, 0]],
      ],
    });
    expect(subOptions(bios[0]!.opts.get(OPT.VENDOR_SPECIFIC)!, 43).get(6)).toEqual(Uint8Array.of(8));
  });

  it('stays silent to U-Boot (it takes the first OFFER and knows no proxyDHCP) and to HTTP boot on the signed chain, and says so', async () => {
    const h = handler(ts.store, ts.events, { mode: 'proxy', pools: [] });
    const uboot = {
      mac: '52:54:00:00:06:01',
      options: [
        [53, [1]],
        [60, 'U-Boot.armv8'],
        [93, [0, 22]],
      ] as [number, number[] | string][],
    };
    expect(await ask(h, uboot)).toEqual([]);
    expect(h.stats.proxy_uboot).toBe(1);
    expect(seen.find((e) => e.type === 'dhcp.unsupported')?.message).toMatch(/U-Boot takes the first DHCP offer .* full DHCP mode/);
    // The same machine's UEFI step (arch 11) once known as U-Boot: silence as well.
    hooks.uboot.add('52:54:00:00:06:01');
    const uefi = {
      mac: '52:54:00:00:06:01',
      options: [
        [53, [1]],
        [60, 'PXEClient:Arch:00011:UNDI:003000'],
        [93, [0, 11]],
      ] as [number, number[] | string][],
    };
    expect(await ask(h, uefi)).toEqual([]);
    const httpBoot = {
      mac: '52:54:00:00:06:02',
      options: [
        [53, [1]],
        [60, 'HTTPClient:Arch:00016:UNDI:003000'],
        [93, [0, 16]],
      ] as [number, number[] | string][],
    };
    const [offer] = await ask(h, httpBoot);
    expect(Buffer.from(offer!.p.file).toString('latin1').replace(/\0+$/, '')).toBe('http://10.9.0.1:8026/ipxe/ipxe.efi');
    expect(readOption(offer!.opts, OPTIONS.VENDOR_CLASS)).toBe('HTTPClient');
    expect(offer!.p.yiaddr).toBe('0.0.0.0');
    hooks.secure.add('52:54:00:00:06:02');
    expect(await ask(h, { ...httpBoot, xid: 7 })).toEqual([]);
    expect(seen.filter((e) => e.type === 'dhcp.unsupported').at(-1)?.message).toMatch(/signed chain: .*fall back to PXE/);
  });
});

describe('lease table', () => {
  it('an unanswered offer does not cost a released MAC its address', async () => {
    const h = handler(ts.store, ts.events);
    const mac = '52:54:00:00:06:01';
    await ask(h, { mac, options: [[53, [1]]] });
    const [ack] = await ask(h, {
      mac,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    await ask(h, {
      mac,
      ciaddr: ack!.p.yiaddr,
      options: [
        [53, [7]],
        [54, ip4(SERVER)],
      ],
    });
    await ask(h, { mac, options: [[53, [1]]] }); // offered again, never requested
    clock += 120_000;
    table.sweep(clock);
    expect(table.get(mac)?.state).toBe('released');
    const [other] = await ask(h, { mac: '52:54:00:00:06:02', options: [[53, [1]]] });
    expect(other!.p.yiaddr).not.toBe('10.9.0.100');
    const [back] = await ask(h, { mac, options: [[53, [1]]] });
    expect(back!.p.yiaddr).toBe('10.9.0.100');
  });
});

describe('hostile rack (issue 10)', () => {
  const inRange = '10.9.0.101';
  it('RFC 2131 4.3.2: INIT-REBOOT and RENEW from a MAC with no record stay silent and allocate nothing', async () => {
    const h = handler(ts.store, ts.events);
    const initReboot = await ask(h, {
      mac: '52:54:00:00:07:01',
      options: [
        [53, [3]],
        [50, ip4(inRange)],
      ],
    });
    expect(initReboot).toEqual([]);
    const renew = await ask(h, { mac: '52:54:00:00:07:02', ciaddr: inRange, options: [[53, [3]]] }, { address: inRange, port: 68 });
    expect(renew).toEqual([]);
    expect(h.stats.unknown_client_request).toBe(2);
    expect(table.holderOf(inRange)).toBeNull();
    expect(await ts.store.leases.count()).toBe(0);
    expect(seen.some((e) => e.type === 'dhcp.ack')).toBe(false);
    // A wrong network is still NAKed (RFC 2131 4.3.2: the client moved; it must restart).
    const [wrong] = await ask(h, {
      mac: '52:54:00:00:07:01',
      options: [
        [53, [3]],
        [50, ip4('192.168.7.7')],
      ],
    });
    expect(wrong!.type).toBe(6);
    // The address is still free for a client that does DORA.
    const [offer] = await ask(h, {
      mac: '52:54:00:00:07:03',
      options: [
        [53, [1]],
        [50, ip4(inRange)],
      ],
    });
    expect(offer!.p.yiaddr).toBe(inRange);
  });

  it('a reserved MAC is known without a lease: INIT-REBOOT of its reserved address is ACKed', async () => {
    const h = handler(ts.store, ts.events);
    const [ack] = await ask(h, {
      mac: '52:54:00:aa:00:99',
      options: [
        [53, [3]],
        [50, ip4('10.9.0.50')],
      ],
    });
    expect(ack!.type).toBe(5);
    expect(ack!.p.yiaddr).toBe('10.9.0.50');
  });

  it('option 82 is echoed only to a relay: a direct client that sends 82 gets none back', async () => {
    const h = handler(ts.store, ts.events);
    const agent = [1, 6, 0x65, 0x76, 0x69, 0x6c, 0x21, 0x21];
    const [direct] = await ask(h, {
      mac: '52:54:00:00:08:01',
      options: [
        [53, [1]],
        [82, agent],
      ],
    });
    expect(direct!.type).toBe(2);
    expect(direct!.opts.has(OPT.RELAY_AGENT)).toBe(false);
    expect(Buffer.from(direct!.p.options.flatMap((o) => [...o.data])).includes(Buffer.from('evil!!'))).toBe(false);
    // The NAK path too.
    const [nak] = await ask(h, {
      mac: '52:54:00:00:08:01',
      options: [
        [53, [3]],
        [50, ip4('192.168.1.1')],
        [82, agent],
      ],
    });
    expect(nak!.type).toBe(6);
    expect(nak!.opts.has(OPT.RELAY_AGENT)).toBe(false);
    const [relayed] = await ask(
      h,
      {
        mac: '52:54:00:00:08:02',
        giaddr: '10.20.0.1',
        options: [
          [53, [1]],
          [82, agent],
        ],
      },
      { address: '10.20.0.1', port: 67 },
    );
    expect(relayed!.opts.get(OPT.RELAY_AGENT)).toEqual(Uint8Array.from(agent));
  });

  it('RFC 6842: a client identifier (61) comes back unaltered, right after 53 and 54, in OFFER, ACK, NAK and proxy replies', async () => {
    const h = handler(ts.store, ts.events);
    const mac = '52:54:00:00:09:01';
    // An RFC 4361 identifier (type 255, IAID, DUID): not the MAC, so an echo built from chaddr would not match it.
    const cid = [0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef];
    const echoed = (r: { opts: Map<number, Uint8Array>; p: { options: { code: number }[] } } | undefined) => {
      expect(r!.opts.get(OPT.CLIENT_ID)).toEqual(Uint8Array.from(cid));
      expect(r!.p.options.slice(0, 3).map((o) => o.code)).toEqual([OPT.MESSAGE_TYPE, OPT.SERVER_ID, OPT.CLIENT_ID]);
    };
    const [offer] = await ask(h, {
      mac,
      options: [
        [53, [1]],
        [61, cid],
      ],
    });
    expect(offer!.type).toBe(2);
    echoed(offer);
    const [ack] = await ask(h, {
      mac,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4(offer!.p.yiaddr)],
        [61, cid],
      ],
    });
    expect(ack!.type).toBe(5);
    echoed(ack);
    const [nak] = await ask(h, {
      mac,
      options: [
        [53, [3]],
        [50, ip4('192.168.1.1')],
        [61, cid],
      ],
    });
    expect(nak!.type).toBe(6);
    echoed(nak);
    // Relayed: 61 is echoed and 82 stays the last option (RFC 3046 2.2).
    const agent = [1, 4, 0x70, 0x6f, 0x72, 0x74];
    const [relayed] = await ask(
      h,
      {
        mac: '52:54:00:00:09:02',
        giaddr: '10.20.0.1',
        options: [
          [53, [1]],
          [61, cid],
          [82, agent],
        ],
      },
      { address: '10.20.0.1', port: 67 },
    );
    echoed(relayed);
    expect(relayed!.p.options.at(-1)!.code).toBe(OPT.RELAY_AGENT);
    // A client that sends none gets none.
    const [plain] = await ask(h, { mac: '52:54:00:00:09:03', options: [[53, [1]]] });
    expect(plain!.type).toBe(2);
    expect(plain!.opts.has(OPT.CLIENT_ID)).toBe(false);
    // ProxyDHCP answers are DHCP server replies too.
    const proxy = handler(ts.store, ts.events, { mode: 'proxy', pools: [] });
    const [pxe] = await ask(proxy, {
      mac: '52:54:00:00:09:04',
      options: [
        [53, [1]],
        [60, 'PXEClient:Arch:00000:UNDI:002001'],
        [93, [0, 0]],
        [61, cid],
      ],
    });
    expect(pxe!.type).toBe(2);
    echoed(pxe);
  });

  it('a DECLINE of an address the client was not given quarantines nothing', async () => {
    const h = handler(ts.store, ts.events);
    await ask(h, { mac: '52:54:00:00:09:01', options: [[53, [1]]] }); // offered .100
    const out = await ask(h, {
      mac: '52:54:00:00:09:01',
      options: [
        [53, [4]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.102')],
      ],
    });
    expect(out).toEqual([]);
    expect(h.stats.decline_ignored).toBe(1);
    const [next] = await ask(h, {
      mac: '52:54:00:00:09:02',
      options: [
        [53, [1]],
        [50, ip4('10.9.0.102')],
      ],
    });
    expect(next!.p.yiaddr).toBe('10.9.0.102');
  });

  it('a reservation takes effect at the next renewal: NAK, then the reserved address is offered', async () => {
    const live = new Map<string, string>();
    const source = {
      reservationFor: (mac: string) => (live.has(mac) ? { mac, ip: live.get(mac)!, hostname: null } : null),
      macForReservedIp: (ip: string) => [...live].find(([, v]) => v === ip)?.[0] ?? null,
    };
    const h2 = handler(ts.store, ts.events, { table: new LeaseTable(source) });
    const mac = '52:54:00:00:0a:01';
    await ask(h2, { mac, options: [[53, [1]]] });
    const [ack] = await ask(h2, {
      mac,
      options: [
        [53, [3]],
        [54, ip4(SERVER)],
        [50, ip4('10.9.0.100')],
      ],
    });
    expect(ack!.type).toBe(5);
    live.set(mac, '10.9.0.60');
    const [renew] = await ask(h2, { mac, ciaddr: '10.9.0.100', options: [[53, [3]]] }, { address: '10.9.0.100', port: 68 });
    expect(renew!.type).toBe(6);
    const [offer] = await ask(h2, { mac, options: [[53, [1]]] });
    expect(offer!.p.yiaddr).toBe('10.9.0.60');
    // Another MAC asking for the reserved address gets NAK (INIT-REBOOT with a record) or never gets it offered.
    const [other] = await ask(h2, {
      mac: '52:54:00:00:0a:02',
      options: [
        [53, [1]],
        [50, ip4('10.9.0.60')],
      ],
    });
    expect(other!.p.yiaddr).not.toBe('10.9.0.60');
  });

  it('operator options are sent and replace the default of the same code', async () => {
    const h = handler(ts.store, ts.events, {
      extraOptions: [
        [OPT.ROUTER, Uint8Array.of(10, 9, 0, 254)],
        [OPT.NTP, Uint8Array.of(10, 9, 0, 1)],
        [224, Uint8Array.of(1, 2, 3)],
      ],
    });
    const [offer] = await ask(h, { mac: '52:54:00:00:0b:01', options: [[53, [1]]] });
    expect(readOption(offer!.opts, OPTIONS.ROUTER)).toEqual(['10.9.0.254']);
    expect(offer!.p.options.filter((o) => o.code === OPT.ROUTER).length).toBe(1);
    expect(readOption(offer!.opts, OPTIONS.NTP)).toEqual(['10.9.0.1']);
    expect(offer!.opts.get(224)).toEqual(Uint8Array.of(1, 2, 3));
    expect(readOption(offer!.opts, OPTIONS.DNS)).toEqual([SERVER]);
  });
});
