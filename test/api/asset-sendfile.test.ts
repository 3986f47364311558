/**
 * The node plane's sendfile(2) path (native/sendfile.c through server/http/asset-sendfile.ts) against what a
 * hostile or broken client does on a raw TCP socket: pipelined requests on one connection, a client that stops
 * reading and then vanishes, many such clients at once, and a file cut short while it is being sent. Each case
 * checks the bytes on the wire and that no descriptor or job is left behind.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AssetServer } from '../../server/http/asset-server.ts';
import { sendfileAddon, sendfileStats } from '../../server/http/asset-sendfile.ts';
import { installErrorHandling } from '../../server/http/error-handler.ts';
import { loadServeConfig } from '../../server/config/load.ts';
import { waitFor } from '../support/wait-for.ts';
import { createRequire } from 'node:module';

const { getsockopt, setsockopt } = createRequire(import.meta.url)('sockopt') as {
  getsockopt: (s: net.Socket, level: number, opt: number) => number;
  setsockopt: (s: net.Socket, level: number, opt: number, value: number) => void;
};

let dir: string;
let app: FastifyInstance;
let port: number;
/** Under /s/, bodies that make no progress for this long are cut (SEND_STALL_MS in the product and under /a/). */
const STALL_MS = 1000;
const small = randomBytes(70_000);
const big = randomBytes(48 * 1024 * 1024 + 7); // more than loopback's socket buffers hold: the sender has to wait

const openFds = () => fs.readdirSync('/proc/self/fd').length;
const inFlight = () => sendfileStats.started - sendfileStats.completed - sendfileStats.failed - sendfileStats.cancelled;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-sendfile-'));
  fs.writeFileSync(path.join(dir, 'small.bin'), small);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  app = Fastify();
  installErrorHandling(app, { debug() {}, info() {}, warn() {}, error() {} });
  const assets = new AssetServer(undefined, true);
  app.get('/a/*', async (req, reply) => assets.send(req, reply, dir, (req.params as { '*': string })['*']));
  const impatient = new AssetServer(undefined, true, STALL_MS);
  app.get('/s/*', async (req, reply) => impatient.send(req, reply, dir, (req.params as { '*': string })['*']));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A raw connection that collects every byte it receives. */
function connect(): Promise<{ sock: net.Socket; got: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('data', (d) => chunks.push(d));
    sock.once('error', () => undefined);
    sock.once('connect', () => resolve({ sock, got: () => Buffer.concat(chunks), closed }));
    sock.once('error', reject);
  });
}

/** Split `raw` into HTTP/1.1 responses with Content-Length bodies: [status line, body] each. */
function responses(raw: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = raw.subarray(at, end).toString('latin1');
    const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    out.push([head.split('\r\n')[0]!, raw.subarray(end + 4, end + 4 + len)]);
    at = end + 4 + len;
  }
  return out;
}

/** A loopback TCP pair outside the node plane, for the addon alone: the accepted side and a client that collects bytes. */
async function rawPair(): Promise<{ sock: net.Socket; client: net.Socket; received: () => Buffer; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (d) => chunks.push(d));
  await new Promise((r) => client.once('connect', r));
  const sock = await accepted;
  return {
    sock,
    client,
    received: () => Buffer.concat(chunks),
    close: async () => {
      client.destroy();
      sock.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
const fdOf = (s: net.Socket) => (s as unknown as { _handle: { fd: number } })._handle.fd;

describe('sendfile(2) on the node plane', () => {
  it('the addon is built for this machine and loads (CI builds it in ensure-test-deps)', () => {
    expect(sendfileAddon.why).toBe('loaded');
    expect(sendfileAddon.addon).not.toBeNull();
  });

  it('--http-copy is the one switch that turns it off', () => {
    const machine = { interfaces: () => ({}), ifindex: () => null, env: {} };
    expect(loadServeConfig(['--http-copy'], machine).httpCopy).toBe(true);
    expect(loadServeConfig([], machine).httpCopy).toBe(false);
  });

  it('pipelined requests on one connection come back whole and in order', async () => {
    const c = await connect();
    const before = sendfileStats.completed;
    const started = sendfileStats.started;
    c.sock.write(
      'GET /a/big.bin HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /a/small.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n' +
        'GET /a/small.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await c.closed;
    const r = responses(c.got());
    expect(r.map(([status]) => status)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 206 Partial Content', 'HTTP/1.1 200 OK']);
    expect(r[0]![1].equals(big)).toBe(true);
    expect(r[1]![1].equals(small.subarray(100, 200))).toBe(true);
    expect(r[2]![1].equals(small)).toBe(true);
    expect(sendfileStats.completed).toBeGreaterThan(before);
    // The two queued behind the first waited for the socket and went by sendfile(2) too, not read into memory.
    expect(sendfileStats.started - started).toBe(3);
  });

  it('a client that pipelines requests behind a body it does not read and vanishes leaves no response waiting', async () => {
    const c = await connect();
    const started = sendfileStats.started;
    const waiting = sendfileStats.waiting;
    c.sock.pause(); // the first body never finishes, so the 20 behind it stay queued without a socket
    c.sock.write('GET /a/big.bin HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET /a/big.bin HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20));
    await waitFor('20 responses waiting for the connection', 20_000, () => sendfileStats.waiting - waiting === 20);
    c.sock.destroy();
    // Node gives a queued response neither 'socket' nor 'close' when its client goes: only the connection closes.
    await waitFor('no response left waiting', 20_000, () => sendfileStats.waiting === waiting && inFlight() === 0);
    expect(sendfileStats.started - started).toBe(1); // the 20 were not sent, nor read into memory for a dead client
  });

  it('corks the connection while a body goes out and uncorks it when the body is done (nginx: sendfile with tcp_nopush)', async () => {
    const IPPROTO_TCP = 6;
    const TCP_CORK = 3;
    const accepted: net.Socket[] = [];
    const grab = (s: net.Socket) => accepted.push(s);
    app.server.on('connection', grab);
    const c = await connect();
    try {
      c.sock.pause(); // the server's socket buffer fills: the job waits, corked, for POLLOUT
      c.sock.write('GET /a/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor('the body under way', 20_000, () => inFlight() >= 1);
      const s = accepted.at(-1)!;
      expect(getsockopt(s, IPPROTO_TCP, TCP_CORK)).toBe(1);
      c.sock.resume();
      await waitFor('the body sent', 20_000, () => inFlight() === 0 && c.got().length > big.length);
      expect(getsockopt(s, IPPROTO_TCP, TCP_CORK)).toBe(0); // the tail left; the next response is not held
      c.sock.write('GET /a/small.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await c.closed;
      const r = responses(c.got());
      expect(r.map(([status]) => status)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(r[0]![1].equals(big)).toBe(true);
      expect(r[1]![1].equals(small)).toBe(true);
    } finally {
      app.server.off('connection', grab);
      c.sock.destroy(); // a failed check must not leave a paused connection holding the server open
    }
  });

  it('one writable event sends at most a slice, so bodies sharing a sender thread take turns instead of one filling its socket to the brim', async () => {
    const addon = sendfileAddon.addon!;
    expect(addon.slice).toBe(2 * 1024 * 1024);
    const SOL_SOCKET = 1;
    const SO_SNDBUFFORCE = 32;
    const SO_RCVBUFFORCE = 33;
    const { sock, client, received, close } = await rawPair();
    const fd = fs.openSync(path.join(dir, 'big.bin'), 'r');
    const length = 40 * 1024 * 1024;
    try {
      // Room for several slices at once (root may force buffers past net.core.*mem_max): an event that sent until its
      // socket was full would send all of it in one go here.
      setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, 8 * 1024 * 1024);
      setsockopt(client, SOL_SOCKET, SO_RCVBUFFORCE, 8 * 1024 * 1024);
      client.pause();
      let result: [number, number] | null = null;
      const job = addon.start(fdOf(sock), fd, 0, length, (e, n) => (result = [e, n]));
      let last = -1;
      await waitFor('the socket buffers full', 20_000, async () => {
        const now = addon.sent(job);
        const still = now === last;
        last = now;
        await new Promise((r) => setTimeout(r, 200));
        return still && now > 0;
      });
      expect(last).toBeGreaterThan(2 * addon.slice); // the kernel took more than two slices while the client read nothing
      expect(last).toBeLessThanOrEqual(addon.turns(job) * addon.slice);
      client.resume();
      await waitFor('the job done', 20_000, () => result !== null);
      expect(result).toEqual([0, length]);
      expect(addon.sent(job)).toBeLessThanOrEqual(addon.turns(job) * addon.slice);
      await waitFor('every byte at the client', 20_000, () => received().length >= length);
      expect(received().equals(big.subarray(0, length))).toBe(true);
    } finally {
      fs.closeSync(fd);
      await close();
    }
  });

  it('bodies go out on sender threads of their own (cc-sendfile), one per CPU up to four, and the caller may close its descriptors at once', async () => {
    const addon = sendfileAddon.addon!;
    // The job reads through its own dup of the file: the caller's descriptor closed straight after start changes nothing.
    const { sock, received, close } = await rawPair();
    let squatter = -1;
    try {
      const fd = fs.openSync(path.join(dir, 'big.bin'), 'r');
      let result: [number, number] | null = null;
      addon.start(fdOf(sock), fd, 5, big.length - 5, (e, n) => (result = [e, n]));
      fs.closeSync(fd);
      squatter = fs.openSync(path.join(dir, 'small.bin'), 'r'); // takes the number the caller gave back
      await waitFor('the job done', 20_000, () => result !== null);
      expect(result).toEqual([0, big.length - 5]);
      await waitFor('every byte at the client', 20_000, () => received().length >= big.length - 5);
      expect(received().equals(big.subarray(5))).toBe(true);
    } finally {
      if (squatter >= 0) fs.closeSync(squatter);
      await close();
    }
    const { planned, running } = addon.threads();
    expect(planned).toBe(Math.min(4, Math.max(1, os.availableParallelism())));
    expect(running).toBe(planned); // started with the first body
    const names = fs
      .readdirSync('/proc/self/task')
      .map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())
      .filter((n) => n === 'cc-sendfile');
    expect(names.length).toBe(planned);
  });

  it('clients that stop reading and vanish leave no job and no descriptor behind; the next client gets everything', async () => {
    const fds = openFds();
    const ended = sendfileStats.cancelled + sendfileStats.failed;
    const stalled = await Promise.all(Array.from({ length: 12 }, () => connect()));
    for (const c of stalled) {
      c.sock.pause(); // a zero window: the server's socket buffer fills and its job waits for POLLOUT
      c.sock.write('GET /a/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await waitFor('all 12 bodies under way', 20_000, () => inFlight() >= 12);
    for (const c of stalled) c.sock.destroy();
    // Depending on what the server's socket sees first, a job is cancelled (Node read the reset) or fails (sendfile got EPIPE).
    await waitFor('12 jobs ended', 20_000, () => sendfileStats.cancelled + sendfileStats.failed - ended === 12 && inFlight() === 0);
    await waitFor('descriptors back to where they were', 20_000, () => openFds() <= fds);
    const c = await connect();
    c.sock.write('GET /a/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await c.closed;
    expect(responses(c.got())[0]![1].equals(big)).toBe(true);
  });

  it('a client that stops reading but keeps the connection open is cut once the body makes no progress', async () => {
    const fds = openFds();
    const stalled = sendfileStats.stalled;
    const c = await connect();
    c.sock.pause(); // never reads again: the server's socket buffer fills and stays full
    c.sock.write('GET /s/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the stalled body cut', 30_000, () => sendfileStats.stalled === stalled + 1 && inFlight() === 0);
    c.sock.resume(); // what was in flight, then the server's FIN: the connection ends without the client closing it
    await c.closed;
    expect(c.got().length).toBeLessThan(big.length);
    await waitFor('descriptors back to where they were', 20_000, () => openFds() <= fds);
  });

  it('a file cut short while it is sent: the connection is cut (never a hang or a padded body)', async () => {
    const file = path.join(dir, 'shrinks.bin');
    fs.writeFileSync(file, big);
    const failed = sendfileStats.failed;
    const c = await connect();
    c.sock.pause();
    c.sock.write('GET /a/shrinks.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the body under way', 20_000, () => inFlight() >= 1);
    fs.truncateSync(file, 1024 * 1024);
    c.sock.resume();
    await c.closed;
    const raw = c.got();
    const headEnd = raw.indexOf('\r\n\r\n') + 4;
    expect(raw.subarray(0, headEnd).toString()).toContain(`content-length: ${big.length}`);
    const bodyBytes = raw.length - headEnd;
    expect(bodyBytes).toBeLessThan(big.length);
    expect(
      raw.subarray(headEnd, headEnd + Math.min(bodyBytes, 1024 * 1024)).equals(big.subarray(0, Math.min(bodyBytes, 1024 * 1024))),
    ).toBe(true);
    expect(sendfileStats.failed).toBe(failed + 1);
  });
});
