/**
 * Connection floods against the real `crashcart serve` process (server/http/connection-caps.ts): a rack host that
 * opens TCP connections to the node plane and sends nothing, or idles after a request, holds a file descriptor per
 * connection until a timeout. The appliance runs here under a descriptor limit of 1,024 (a desktop session's soft
 * limit; Node raises the soft limit to the hard one, so both are set), where before the caps one host's flood
 * took every descriptor the process had: the admin plane, the stores and TFTP's transfer sockets with it. At a cap an
 * idle connection (none of its requests in flight) makes room, so a pool's idle keep-alive connections and a flood
 * that sends nothing give way; a host whose every connection has a request in flight gets no more.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { httpFrom } from './helpers/http-from.ts';
import { waitFor } from '../support/wait-for.ts';

const FD_LIMIT = 1024;
/** What connection-caps.ts derives from that limit for each of the two planes: half the descriptors, halved. */
const PLANE_TOTAL = (FD_LIMIT * 0.5) / 2;
/** A quarter of that per source. */
const PER_SOURCE = PLANE_TOTAL / 4;

let app: ProcessAppliance | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.stop();
  app = null;
});

/**
 * Open `n` connections from `from` to `url`'s host; `onConnect` writes what each sends and settles it (a connection
 * the appliance resets settles itself). Resolves once every one has settled.
 */
async function openFrom(
  url: string,
  from: string,
  n: number,
  onConnect: (s: net.Socket, host: string, settle: (e?: Error) => void) => void,
): Promise<net.Socket[]> {
  const { hostname, port } = new URL(url);
  const opened = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: hostname, port: Number(port), localAddress: from });
          const settle = (e?: Error) => (e ? reject(e) : resolve(s));
          s.on('error', () => undefined);
          s.once('connect', () => onConnect(s, hostname, settle));
          s.once('close', () => settle());
        }),
    ),
  );
  sockets.push(...opened);
  return opened;
}

/** `n` connections from `from` that send nothing. */
const flood = (url: string, from: string, n: number) => openFrom(url, from, n, (_s, _h, settle) => settle());

/** The sockets of `list` the appliance still holds open, once its resets have arrived. */
async function stillOpen(list: net.Socket[]): Promise<number> {
  let last = -1;
  // Settled when two looks 300 ms apart agree: resets come right after the accept, not later.
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const n = list.filter((s) => !s.destroyed && s.readyState === 'open').length;
    if (n === last) return n;
    last = n;
  }
}

const adminGet = async (a: ProcessAppliance, p: string) =>
  fetch(`${a.adminUrl}${p}`, { headers: { authorization: `Bearer ${await a.token()}` } }).then((r) => r.status);

/** `n` connections from `from`, each with one request whose answer is read, kept open (HTTP/1.1 keep-alive). */
const idleKeepAlive = (url: string, from: string, n: number) =>
  openFrom(url, from, n, (s, host, settle) => {
    s.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    s.once('data', (d: Buffer) => settle(d.toString().startsWith('HTTP/1.1 200') ? undefined : new Error(d.toString())));
  });

/** `n` connections from `from`, each with a request in flight: its head sent, half its 10-byte body. */
const busy = (url: string, from: string, n: number) =>
  openFrom(url, from, n, (s, host, settle) => {
    s.write(`POST /api/v1/checkin HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":`);
    setTimeout(() => settle(), 50);
  });

const launchLimited = () => spawnAppliance([], { wrap: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });

describe('connection floods on the node plane', () => {
  it('one host sending nothing keeps at most its share open; other machines boot, and the host is served again', async () => {
    app = await launchLimited();
    const attacker = await flood(app.nodeUrl, '127.0.0.1', 3 * PER_SOURCE);
    expect(await stillOpen(attacker)).toBe(PER_SOURCE);
    // Another machine of the rack is served while the flood holds its share.
    const other = await httpFrom('127.0.0.2', 'GET', `${app.nodeUrl}/boot?mac=02:00:00:00:00:02`);
    expect(other.status).toBe(200);
    expect(other.text).toContain('#!ipxe');
    // The flooding host's own next request is served: a connection that sent nothing makes room.
    expect((await httpFrom('127.0.0.1', 'GET', `${app.nodeUrl}/health`)).status).toBe(200);
    expect(await stillOpen(attacker)).toBe(PER_SOURCE - 1);
  });

  it('a client whose pool keeps its share of idle keep-alive connections is not locked out by them', async () => {
    app = await launchLimited();
    const pool = await idleKeepAlive(app.nodeUrl, '127.0.0.3', PER_SOURCE);
    expect(await stillOpen(pool)).toBe(PER_SOURCE);
    // Each request below comes on a new connection that closes after its answer: the first needs room, the rest find it.
    for (let i = 0; i < 3; i++) expect((await httpFrom('127.0.0.3', 'GET', `${app.nodeUrl}/health`)).status).toBe(200);
    expect(await stillOpen(pool)).toBe(PER_SOURCE - 1);
  });

  it('a connection past the share of a host whose every connection has a request in flight is refused', async () => {
    app = await launchLimited();
    const held = await busy(app.nodeUrl, '127.0.0.4', PER_SOURCE);
    expect(await stillOpen(held)).toBe(PER_SOURCE);
    await expect(httpFrom('127.0.0.4', 'GET', `${app.nodeUrl}/health`)).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(await stillOpen(held)).toBe(PER_SOURCE);
    // Another host is served.
    expect((await httpFrom('127.0.0.5', 'GET', `${app.nodeUrl}/health`)).status).toBe(200);
  });

  it('many hosts together hold at most the cap in all; machines are served and the appliance keeps its descriptors', async () => {
    app = await launchLimited();
    const sources = Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`);
    const all: net.Socket[] = [];
    for (const from of sources) all.push(...(await flood(app.nodeUrl, from, PER_SOURCE)));
    // 24 x 64 = 1,536 connections asked for: more descriptors than the process has.
    expect(await stillOpen(all)).toBe(PLANE_TOTAL);
    // A machine is served while the flood goes on: a connection that sent nothing makes room.
    const machine = await httpFrom('127.0.0.9', 'GET', `${app.nodeUrl}/boot?mac=02:00:00:00:00:09`);
    expect(machine.status).toBe(200);
    // The admin plane accepts, reads and writes (a tag is a durable store write).
    expect(await adminGet(app, '/api/v1/nodes')).toBe(200);
    const tag = await fetch(`${app.adminUrl}/api/v1/tags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'flooded', rule: ['=', ['fact', 'manufacturer'], 'Flood Inc.'] }),
    });
    expect(tag.status).toBeLessThan(300);
    for (const s of all) s.destroy();
    await waitFor(
      'the node plane served again',
      10_000,
      async () => (await httpFrom('127.0.0.9', 'GET', `${app!.nodeUrl}/health`)).status === 200,
    );
    expect(app.exited()).toBe(false);
  });
});
