/**
 * What the rack writes into the event log is bounded in size as well as in number (server/events/event-clamp.ts).
 * Before, one 65,009-byte TFTP read request for a name of control bytes became a 1.2 MB event line, and the TFTP
 * budget let 12,000 of them in a minute. Real datagrams on loopback into a real TFTP server whose events go to a
 * real event log on disk; real HTTP into the node plane.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../server/events/event-log.ts';
import { EVENT_LINE_MAX } from '../../server/events/event-clamp.ts';
import { TftpServer } from '../../server/tftp/server.ts';
import { LoopNet } from '../tftp/helpers/loop-net.ts';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { waitFor } from '../support/wait-for.ts';

const SERVER = '127.0.0.1';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An RRQ datagram: opcode 1, the name, NUL, the mode, NUL, then option name/value pairs (RFC 1350, 2347). */
function rrq(name: Buffer, options: [string, string][] = []): Buffer {
  const z = Buffer.alloc(1);
  const parts = [Buffer.from([0, 1]), name, z, Buffer.from('octet'), z];
  for (const [k, v] of options) parts.push(Buffer.from(k), z, Buffer.from(v), z);
  return Buffer.concat(parts);
}

async function tftpWithLog() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-event-size-'));
  writeFileSync(path.join(dir, 'pxe.bin'), Buffer.alloc(700, 7));
  const file = path.join(dir, 'events.log');
  const log = await EventLog.open(file, path.join(dir, 'events.db'), 1000);
  const net = new LoopNet();
  const s = new TftpServer({
    port: 0,
    open: async (port) => net.open(SERVER, port),
    roots: [dir],
    blksizeCap: 1468,
    rto: { initialMs: 200, minMs: 100, maxMs: 400, maxRetries: 2 },
    hooks: { tftpFileFor: async (_ip, name) => name, nodeIdForIp: async () => null },
    events: log,
    log: quiet,
  });
  await s.start();
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.2', () => r()));
  cleanups.push(async () => {
    client.close();
    await s.stop();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const send = (b: Buffer) => new Promise<void>((r, j) => client.send(b, s.port, SERVER, (e) => (e ? j(e) : r())));
  return { log, file, send };
}

describe('the size of an event the rack causes', () => {
  it('a read request for a 65,000-byte name of control bytes: refused, one event within EVENT_LINE_MAX in the ring and the file', async () => {
    const { log, file, send } = await tftpWithLog();
    const datagram = rrq(Buffer.alloc(65_000, 1));
    expect(datagram.length).toBe(65_009);
    await send(datagram);
    await waitFor('the refusal event', 10_000, async () => (await log.query({ type: 'tftp.error' })).length === 1);
    const [ev] = await log.query({ type: 'tftp.error' });
    const line = JSON.stringify(ev);
    expect(line.length).toBeLessThanOrEqual(EVENT_LINE_MAX);
    const data = ev!.data as unknown as Record<string, unknown>;
    expect(data.file).toMatch(/^\?{256}…\(\+64744 chars\)$/);
    expect(data.reason).toMatch(/longer than 255 bytes/);
    expect(data.client).toBe('127.0.0.2');
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.some((l) => l.includes('"tftp.error"'))).toBe(true);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(EVENT_LINE_MAX);
  });

  it('a read request with 2,000 junk options: the transfer runs, its events keep a few options, within EVENT_LINE_MAX', async () => {
    const { log, send } = await tftpWithLog();
    const junk: [string, string][] = [];
    for (let i = 0; i < 2000; i++) junk.push([`x${i}${'\x02'.repeat(10)}`, '\x03'.repeat(10)]);
    const datagram = rrq(Buffer.from('pxe.bin'), junk);
    expect(datagram.length).toBeGreaterThan(40_000);
    await send(datagram);
    // No ACK comes from this client, so the transfer gives up after its retries: a start and an error event.
    await waitFor('the transfer to end', 10_000, async () => (await log.query({ type: 'tftp.' })).length >= 2);
    const evs = await log.query({ type: 'tftp.' });
    expect(evs.map((e) => e.type).sort()).toEqual(['tftp.error', 'tftp.start']);
    for (const ev of evs) {
      expect(JSON.stringify(ev).length).toBeLessThanOrEqual(EVENT_LINE_MAX);
      const opts = Object.keys((ev.data as unknown as { options: Record<string, string> }).options);
      expect(opts.length).toBeGreaterThan(0);
      expect(opts.length).toBeLessThanOrEqual(32);
      expect((ev.data as unknown as { file: string }).file).toBe('pxe.bin');
    }
  });
});

describe('the size of what /boot writes', () => {
  let t: TestAppliance | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('an unknown 12 KB parameter is not copied into the events; 1 KB of control bytes in a field is cut', async () => {
    t = await startTestAppliance();
    const mac = '02:5e:c0:00:0e:01';
    const q = `mac=${mac}&junk=${'j'.repeat(12_000)}&manufacturer=${'%01'.repeat(1000)}&arch=x86_64`;
    const r = await t.node('GET', `/boot?${q}`);
    expect(r.status).toBe(200);
    const evs = (await t.admin('GET', '/api/v1/events?limit=100')).body.events as { type: string; data: Record<string, unknown> }[];
    const mine = evs.filter((e) => (e.type === 'node.discovered' || e.type === 'node.boot') && e.data.mac === mac);
    expect(mine.map((e) => e.type).sort()).toEqual(['node.boot', 'node.discovered']);
    for (const e of mine) {
      expect(e.data).not.toHaveProperty('junk');
      expect(e.data.arch).toBe('x86_64');
      expect(JSON.stringify(e).length).toBeLessThanOrEqual(EVENT_LINE_MAX);
    }
  });
});
