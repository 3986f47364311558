/**
 * What a forged request can make the server send, and to whom (docs/security.md, "DHCP"): ciaddr and giaddr are never
 * a destination on the sender's word (RFC 2131 4.1, 4.3.1, 4.3.5), an echoed option joined past 255 bytes (RFC 3396)
 * is refused before any decision, and a SELECTING REQUEST binds only an address offered to that MAC (RFC 2131 4.3.2).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DhcpHandler, HandlerDeps } from '../../server/dhcp/handler.ts';
import { LeaseTable, fixedReservations, makePool } from '../../server/dhcp/lease-table.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, OPT, PXE_BOOT_ITEM } from '../../server/dhcp/options.ts';
import { tlv } from '../../server/dhcp/structured-codecs.ts';
import type { Peer } from '../../server/net/pinned-udp.ts';
import { TestHooks, clientPacket, ip4, memoryLogger, tempStore, testHandler, type ClientMsg } from './helpers.ts';

const SERVER = '10.9.0.1';
const NO_ADDRESS: Peer = { address: '0.0.0.0', port: 68 };
/** An address outside every subnet the server serves: a host a forged field would aim replies at. */
const VICTIM = '203.0.113.5';
const PXE: ClientMsg['options'] = [
  [60, 'PXEClient:Arch:00000:UNDI:002001'],
  [93, [0, 0]],
];

let ts: Awaited<ReturnType<typeof tempStore>>;
let clock: number;
let table: LeaseTable;
let log: ReturnType<typeof memoryLogger>;

function handler(over: Partial<HandlerDeps> = {}): DhcpHandler {
  table = new LeaseTable(fixedReservations([]));
  log = memoryLogger();
  return testHandler({
    serverIp: SERVER,
    prefix: 24,
    pools: [makePool('main', '10.9.0.100', '10.9.0.103', 24), makePool('rack2', '10.20.0.10', '10.20.0.20', 24)],
    table,
    persist: async (d, durable) => void (await ts.store.leases.put(d, { durable })),
    remove: async (mac) => void (await ts.store.leases.remove({ _id: mac })),
    hooks: new TestHooks(),
    events: ts.events,
    log,
    now: () => clock,
    ...over,
  });
}

async function ask(h: DhcpHandler, msg: ClientMsg, from: Peer = NO_ADDRESS, proxyPort = false) {
  const out = await h.handle(clientPacket(msg), from, proxyPort);
  return out.map((o) => {
    const p = decode(o.buf);
    const opts = collectOptions(p);
    return { p, opts, type: messageType(opts), to: o.to };
  });
}

const selecting = (mac: string, ip: string, extra: ClientMsg['options'] = []): ClientMsg => ({
  mac,
  options: [[53, [3]], [54, ip4(SERVER)], [50, ip4(ip)], ...extra],
});

/** DISCOVER then SELECTING REQUEST: the address bound. */
async function dora(h: DhcpHandler, mac: string): Promise<string> {
  const [offer] = await ask(h, { mac, options: [[53, [1]]] });
  const [ack] = await ask(h, selecting(mac, offer!.p.yiaddr));
  expect(ack!.type).toBe(5);
  return ack!.p.yiaddr;
}

beforeEach(async () => {
  ts = await tempStore();
  clock = 1_700_000_000_000;
});
afterEach(async () => ts.cleanup());

describe('full mode: where replies go (RFC 2131 4.1)', () => {
  it('a DISCOVER with ciaddr set gets its OFFER broadcast, never unicast to that address', async () => {
    const h = handler();
    for (const ciaddr of [VICTIM, '10.9.0.7']) {
      const [offer] = await ask(h, { mac: '52:54:00:10:00:01', ciaddr, options: [[53, [1]]] }, { address: ciaddr, port: 68 });
      expect(offer!.type).toBe(2);
      expect(offer!.to).toEqual({ address: '255.255.255.255', port: 68 });
    }
  });

  it('a SELECTING REQUEST with ciaddr set gets its ACK broadcast', async () => {
    const h = handler();
    const mac = '52:54:00:10:00:02';
    const [offer] = await ask(h, { mac, options: [[53, [1]]] });
    const [ack] = await ask(h, { ...selecting(mac, offer!.p.yiaddr), ciaddr: VICTIM }, { address: VICTIM, port: 68 });
    expect(ack!.type).toBe(5);
    expect(ack!.to).toEqual({ address: '255.255.255.255', port: 68 });
  });

  it('a renewal is unicast to ciaddr only when ciaddr is the datagram source; otherwise broadcast', async () => {
    const h = handler();
    const mac = '52:54:00:10:00:03';
    const ip = await dora(h, mac);
    const [spoofed] = await ask(h, { mac, ciaddr: ip, options: [[53, [3]]] }, { address: '10.9.0.77', port: 68 });
    expect(spoofed!.type).toBe(5);
    expect(spoofed!.to).toEqual({ address: '255.255.255.255', port: 68 });
    const [own] = await ask(h, { mac, ciaddr: ip, options: [[53, [3]]] }, { address: ip, port: 68 });
    expect(own!.to).toEqual({ address: ip, port: 68 });
  });

  it('an INFORM from outside the served subnet gets nothing; one whose ciaddr is not its source gets a broadcast ACK', async () => {
    const h = handler();
    expect(await ask(h, { mac: '52:54:00:10:00:04', ciaddr: VICTIM, options: [[53, [8]]] }, { address: VICTIM, port: 68 })).toEqual([]);
    expect(h.stats.inform_ignored).toBe(1);
    const [inf] = await ask(
      h,
      { mac: '52:54:00:10:00:04', ciaddr: '10.9.0.150', options: [[53, [8]]] },
      { address: '10.9.0.77', port: 68 },
    );
    expect(inf!.type).toBe(5);
    expect(inf!.to).toEqual({ address: '255.255.255.255', port: 68 });
    const [own] = await ask(
      h,
      { mac: '52:54:00:10:00:04', ciaddr: '10.9.0.150', options: [[53, [8]]] },
      { address: '10.9.0.150', port: 68 },
    );
    expect(own!.to).toEqual({ address: '10.9.0.150', port: 68 });
  });
});

describe('proxy mode: where replies go', () => {
  it('answers a relayed PXE DISCOVER only through a relay on the NIC’s own subnet', async () => {
    const h = handler({ mode: 'proxy', pools: [] });
    const agent = [1, 4, 0x65, 0x76, 0x69, 0x6c];
    const relayed = (giaddr: string) => ({
      mac: '52:54:00:10:01:01',
      giaddr,
      options: [[53, [1]], ...PXE, [82, agent]] as ClientMsg['options'],
    });
    expect(await ask(h, relayed('198.51.100.1'), { address: '198.51.100.1', port: 67 })).toEqual([]);
    expect(h.stats.relay_not_served).toBe(1);
    const [offer] = await ask(h, relayed('10.9.0.254'), { address: '10.9.0.254', port: 67 });
    expect(offer!.type).toBe(2);
    expect(offer!.to).toEqual({ address: '10.9.0.254', port: 67 });
    expect(offer!.opts.get(OPT.RELAY_AGENT)).toEqual(Uint8Array.from(agent));
  });

  it('a PXE DISCOVER with ciaddr set gets its proxy OFFER broadcast', async () => {
    const h = handler({ mode: 'proxy', pools: [] });
    const [offer] = await ask(h, { mac: '52:54:00:10:01:02', ciaddr: VICTIM, options: [[53, [1]], ...PXE] }, { address: VICTIM, port: 68 });
    expect(offer!.type).toBe(2);
    expect(offer!.to).toEqual({ address: '255.255.255.255', port: 68 });
  });
});

describe('RFC 3396: echoed options joined past 255 bytes', () => {
  const half = (b: number) => Array.from({ length: 200 }, () => b);

  it('a DISCOVER and a REQUEST with a 400-byte client identifier are dropped as malformed before anything is held or written', async () => {
    const h = handler();
    const mac = '52:54:00:10:02:01';
    const longId: ClientMsg['options'] = [
      [61, half(1)],
      [61, half(2)],
    ];
    const syncs = ts.store.leases.fsync.syncs;
    expect(await ask(h, { mac, options: [[53, [1]], ...longId] })).toEqual([]);
    expect(table.get(mac)).toBeNull();
    expect(await ask(h, selecting(mac, '10.9.0.100', longId))).toEqual([]);
    expect(table.holderOf('10.9.0.100')).toBeNull();
    expect(await ts.store.leases.count()).toBe(0);
    expect(ts.store.leases.fsync.syncs).toBe(syncs);
    expect(h.stats.malformed).toBe(2);
    expect(h.stats.errors).toBeUndefined();
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('so are a 400-byte 97 and, from a relay, a 400-byte 82; a direct client’s 82 is not echoed and not refused', async () => {
    const h = handler();
    const guid: ClientMsg['options'] = [
      [97, half(0)],
      [97, half(3)],
    ];
    expect(await ask(h, { mac: '52:54:00:10:02:02', options: [[53, [1]], ...PXE, ...guid] })).toEqual([]);
    const agent: ClientMsg['options'] = [
      [82, [1, 198, ...half(4).slice(2)]],
      [82, [2, 198, ...half(5).slice(2)]],
    ];
    const relay: Peer = { address: '10.20.0.1', port: 67 };
    expect(await ask(h, { mac: '52:54:00:10:02:03', giaddr: '10.20.0.1', options: [[53, [1]], ...agent] }, relay)).toEqual([]);
    expect(h.stats.malformed).toBe(2);
    const [direct] = await ask(h, { mac: '52:54:00:10:02:04', options: [[53, [1]], ...agent] });
    expect(direct!.type).toBe(2);
    expect(direct!.opts.has(OPT.RELAY_AGENT)).toBe(false);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('proxy mode: a 4011 REQUEST whose boot item cannot be echoed in one option gets its ACK without it', async () => {
    const h = handler({ mode: 'proxy', pools: [] });
    const item = Array.from({ length: 255 }, (_, i) => i & 255);
    const v43 = tlv.encode([[PXE_BOOT_ITEM, Uint8Array.from(item)]]);
    // 257 bytes of option 43: two instances, joined by the server (RFC 3396).
    const msg: ClientMsg = {
      mac: '52:54:00:10:02:05',
      ciaddr: '10.9.0.60',
      options: [[53, [3]], ...PXE, [43, [...v43.subarray(0, 200)]], [43, [...v43.subarray(200)]]],
    };
    const [ack] = await ask(h, msg, { address: '10.9.0.60', port: 4011 }, true);
    expect(ack!.type).toBe(5);
    expect(ack!.to).toEqual({ address: '10.9.0.60', port: 4011 });
    expect(ack!.opts.has(OPT.VENDOR_SPECIFIC)).toBe(false);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('RFC 2131 4.3.2: a SELECTING REQUEST answers an offer', () => {
  it('from a MAC that was offered nothing: NAK, and nothing is bound or written', async () => {
    const h = handler();
    const [nak] = await ask(h, selecting('52:54:00:10:03:01', '10.9.0.101'));
    expect(nak!.type).toBe(6);
    expect(nak!.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(h.stats.no_offer).toBe(1);
    expect(table.holderOf('10.9.0.101')).toBeNull();
    expect(await ts.store.leases.count()).toBe(0);
  });

  it('for another address than the one offered, or after the offer lapsed: NAK; for the offered one: ACK', async () => {
    const h = handler();
    const mac = '52:54:00:10:03:02';
    const [offer] = await ask(h, { mac, options: [[53, [1]]] });
    const offered = offer!.p.yiaddr;
    const other = offered === '10.9.0.102' ? '10.9.0.103' : '10.9.0.102';
    expect((await ask(h, selecting(mac, other)))[0]!.type).toBe(6);
    expect(table.holderOf(other)).toBeNull();
    clock += 61_000; // an offer holds its address 60 s (OFFER_HOLD_S)
    expect((await ask(h, selecting(mac, offered)))[0]!.type).toBe(6);
    const [again] = await ask(h, { mac, options: [[53, [1]]] });
    const [ack] = await ask(h, selecting(mac, again!.p.yiaddr));
    expect(ack!.type).toBe(5);
    // A bound client that runs DORA again (its iPXE after its PXE ROM) is offered its binding and gets the ACK.
    const [back] = await ask(h, { mac, options: [[53, [1]]] });
    expect((await ask(h, selecting(mac, back!.p.yiaddr)))[0]!.type).toBe(5);
    expect(h.stats.no_offer).toBe(2);
  });
});
