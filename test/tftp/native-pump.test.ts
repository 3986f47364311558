/**
 * What only the native pump (native/tftp-pump.c) has: reading a large file with pread(2) instead of the
 * cache, a file cut short under a running transfer, garbage and spoofed datagrams aimed at its own socket,
 * and descriptors. Real sockets on loopback; every protocol case shared with the JavaScript side is in
 * server.test.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TftpServer, type TftpServerOptions } from '../../server/tftp/server.ts';
import { CACHE_FILE_MAX_BYTES } from '../../server/tftp/file-cache.ts';
import { tftpPump } from '../../server/tftp/native-transfer.ts';
import { addonPath } from '../../server/net/native-addon.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { loadServeConfig } from '../../server/config/load.ts';
import { encode } from '../../server/tftp/codec.ts';
import type { Peer, UdpTransport } from '../../server/net/pinned-udp.ts';
import { LoopNet } from './helpers/loop-net.ts';
import { memRead } from './helpers/mem-client.ts';
import { makeEvent } from '../support/events.ts';
import { waitFor } from '../support/wait-for.ts';

const SERVER = '127.0.0.1';
const CLIENT = '127.0.0.2';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const openFds = () => fs.readdirSync('/proc/self/fd').length;
/** For the step-by-step cases: no retransmission unless the test machine stalls for 5 s. */
const PATIENT = { initialMs: 5000, minMs: 5000, maxMs: 5000, maxRetries: 3 };

let dir: string;
/** Larger than the cache takes, so it is read with pread(2) block by block. */
const large = Buffer.alloc(CACHE_FILE_MAX_BYTES + 1_000_003);
/** 3 MB in the cache: 2,044 lock-step blocks of 1468. */
const mid = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7 + (i >> 11)) & 255));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-pump-'));
  for (let i = 0; i + 4 <= large.length; i += 4) large.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(path.join(dir, 'large'), large);
  fs.writeFileSync(path.join(dir, 'small'), Buffer.alloc(40_000, 9));
  fs.writeFileSync(path.join(dir, 'mid'), mid);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Ev {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

async function serve(extra: Partial<TftpServerOptions> = {}) {
  const net = new LoopNet();
  const events: Ev[] = [];
  const s = new TftpServer({
    port: 0,
    open: async (port) => net.open(SERVER, port),
    pump: { address: SERVER, ifindex: null },
    roots: [dir],
    blksizeCap: 1468,
    rto: { initialMs: 1000, minMs: 500, maxMs: 2000, maxRetries: 3 },
    hooks: { tftpFileFor: async (_ip, name) => name, nodeIdForIp: async () => null },
    events: {
      emit(type, e) {
        events.push({ type, message: e.message, data: e.data });
        return makeEvent(type, events.length, e);
      },
    },
    log: quiet,
    ...extra,
  });
  await s.start();
  const idle = () =>
    waitFor('the server to be idle', 10_000, () => s.stats.active === 0 && s.stats.openFiles === 0 && s.stats.openSockets === 1);
  return { net, s, events, idle, to: { address: SERVER, port: s.port } };
}

/** A raw client socket that collects what it receives. */
async function rawClient(net: LoopNet, address = CLIENT): Promise<{ sock: UdpTransport; got: Array<{ buf: Buffer; from: Peer }> }> {
  const sock = await net.open(address, 0);
  const got: Array<{ buf: Buffer; from: Peer }> = [];
  sock.onMessage((buf, from) => got.push({ buf, from }));
  return { sock, got };
}

/** The pump threads start with the process's first transfer and stay (their loops hold a few descriptors). */
async function startPumpThreads(): Promise<void> {
  const { net, s, idle, to } = await serve();
  expect((await memRead(net, CLIENT, to, { file: 'small' })).done).toBe(true);
  await idle();
  await s.stop();
}

/** atftp, a process of its own, reading `file` at blksize 1468 into `target`; resolves with its exit code. */
function atftpGet(to: Peer, file: string, target: string): Promise<number | null> {
  const client = spawn('atftp', ['--option', 'blksize 1468', '-g', '-r', file, '-l', target, to.address, String(to.port)], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => client.once('exit', (c) => resolve(c)));
}

const rrq = (file: string, options: Array<[string, string]> = []) => encode({ op: 1, filename: file, mode: 'octet', options });
const ack = (n: number) => encode({ op: 4, block: n });
const dataBlocks = (got: Array<{ buf: Buffer }>) => got.filter((g) => g.buf[1] === 3).map((g) => g.buf.readUInt16BE(2));

describe('the native TFTP pump', () => {
  it('the addon is built for this machine and loads (CI builds it in ensure-test-deps)', () => {
    expect(tftpPump.why).toBe('loaded');
    expect(tftpPump.addon).not.toBeNull();
  });

  it('runs one pump thread whatever the CPUs, named cc-tftp-pump, started with the first transfer', async () => {
    // One loop serves every transfer, as dnsmasq's does: a thread per transfer paid a switch and a cross-CPU wake-up
    // per block (docs/perf/changes.md, "One pump thread").
    const addon = tftpPump.addon!;
    await startPumpThreads();
    const t = addon.threads();
    expect(t).toEqual({ planned: 1, running: 1 });
    const comm = (id: string) => fs.readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim();
    expect(fs.readdirSync('/proc/self/task').filter((id) => comm(id) === 'cc-tftp-pump')).toHaveLength(1);
    // Confined to one CPU or not, a process plans one; none runs before its first transfer.
    const file = path.join(REPO_ROOT, addonPath('tftp-pump'));
    const script = `console.log(JSON.stringify(require(${JSON.stringify(file)}).threads()))`;
    const threadsIn = (cmd: string, args: string[]) =>
      JSON.parse(execFileSync(cmd, [...args, '-e', script], { encoding: 'utf8' })) as unknown;
    expect(threadsIn('taskset', ['-c', '0', process.execPath])).toEqual({ planned: 1, running: 0 });
    expect(threadsIn(process.execPath, [])).toEqual({ planned: 1, running: 0 });
  });

  it('--tftp-js is the one switch that turns it off', () => {
    const machine = { interfaces: () => ({}), ifindex: () => null, env: {} };
    expect(loadServeConfig(['--tftp-js'], machine).tftpJs).toBe(true);
    expect(loadServeConfig([], machine).tftpJs).toBe(false);
  });

  it('the data phase runs on the pump thread: a real client gets the whole file while JavaScript is blocked', async () => {
    // atftp, a separate process, reads 2,044 lock-step blocks. When the server reports the transfer's start (the
    // client acknowledged the OACK) this thread stops turning its event loop (a synchronous wait) until the whole
    // file has arrived, or 20 s: on Node's loop the pump would answer no ACK meanwhile.
    const target = path.join(dir, 'mid-got');
    const size = () => (fs.existsSync(target) ? fs.statSync(target).size : 0);
    let sizeWhenUnblocked = -1;
    const { s, idle, to } = await serve({
      events: {
        emit(type, e) {
          if (type === 'tftp.start') {
            const sleep = new Int32Array(new SharedArrayBuffer(4));
            const deadline = Date.now() + 20_000;
            while (size() < mid.length && Date.now() < deadline) Atomics.wait(sleep, 0, 0, 5); // blocks this thread
            sizeWhenUnblocked = size();
          }
          return makeEvent(type, 1, e);
        },
      },
    });
    expect(await atftpGet(to, 'mid', target)).toBe(0);
    expect(sizeWhenUnblocked).toBe(mid.length);
    expect(sha(fs.readFileSync(target))).toBe(sha(mid));
    await idle();
    expect(s.stats).toMatchObject({ completed: 1, failed: 0, nativeTransfers: 1 });
    await s.stop();
  });

  it('polls instead of sleeping while a client answers within 0.2 ms, and never for a slow one', async () => {
    // Polling saves the thread a wake-up per block (docs/tftp.md, "Polling between blocks"); a client whose round
    // trip is longer gets none, so a busy rack costs the thread nothing.
    const addon = tftpPump.addon!;
    const { net, s, idle, to } = await serve();
    const before = addon.polling();
    const slow = await memRead(net, CLIENT, to, { file: 'small', lateAck: { every: 1, ms: 3 } });
    expect(slow.done).toBe(true);
    expect(slow.dataPackets).toBe(79);
    await idle();
    expect(addon.polling()).toEqual(before); // not one turn: a 3 ms round trip is past the bound from its first block
    // atftp, a process of its own on loopback, answers a block in tens of microseconds. On a loaded machine one read
    // may never bring its smoothed round trip under the bound, so up to three are tried.
    const target = path.join(dir, 'mid-polled');
    let reads = 0;
    for (let i = 0; i < 3 && reads === 0; i++) {
      const at = addon.polling();
      expect(await atftpGet(to, 'mid', target)).toBe(0);
      expect(sha(fs.readFileSync(target))).toBe(sha(mid));
      await idle();
      const now = addon.polling();
      reads = now.reads - at.reads;
      expect(now.turns - at.turns).toBeGreaterThanOrEqual(reads);
    }
    expect(reads).toBeGreaterThan(0);
    await s.stop();
  });

  it("watches a transfer's socket with poll(2): no epoll instance of the process has it, while it runs", async () => {
    // An epoll instance stays registered on a socket it watches, so every datagram the client sends runs epoll's
    // callback in the client's own send, on the client's CPU; poll(2) registers only while it sleeps
    // (native/tftp-pump.c, pump_thread; docs/tftp.md, "Its sockets polled").
    const { net, s, idle, to } = await serve({ rto: PATIENT });
    const { sock, got } = await rawClient(net);
    await sock.send(rrq('small', [['blksize', '1024']]), to);
    await waitFor('the OACK', 5000, () => got.length === 1); // sent by the pump thread after it began watching
    await sock.send(ack(0), got[0]!.from);
    await waitFor('block 1', 5000, () => dataBlocks(got).includes(1));
    // The transfer's socket: 127.0.0.1 connected to the client's port (/proc/net/udp keeps addresses little-endian).
    const hex = (ip: string, port: number) =>
      `${Buffer.from(ip.split('.').map(Number)).readUInt32LE(0).toString(16).toUpperCase().padStart(8, '0')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const remote = hex(CLIENT, sock.port);
    const inodes = fs
      .readFileSync('/proc/self/net/udp', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1] === hex(SERVER, got[0]!.from.port) && f[2] === remote)
      .map((f) => f[9]);
    expect(inodes).toHaveLength(1);
    const fds = fs.readdirSync('/proc/self/fd');
    const link = (fd: string) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // the descriptor readdir itself used, closed since
      }
    };
    const transferFd = fds.find((fd) => link(fd) === `socket:[${inodes[0]}]`);
    expect(transferFd).toBeDefined();
    // Every epoll instance of the process (Node's loop, the pump's libuv loop, V8's and libuv's own) and what it
    // watches: its fdinfo has a `tfd:` line per watched descriptor.
    const epolls = fds.filter((fd) => link(fd) === 'anon_inode:[eventpoll]');
    expect(epolls.length).toBeGreaterThanOrEqual(2);
    const watched = epolls.flatMap((fd) =>
      [...fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').matchAll(/^tfd:\s+(\d+)/gm)].map((m) => m[1]),
    );
    expect(watched.length).toBeGreaterThan(0); // the parse finds what Node's own loop watches
    expect(watched).not.toContain(transferFd);
    // The socket is still read: the client's ERROR ends the transfer there.
    await sock.send(encode({ op: 5, code: 0, message: 'seen enough' }), got[0]!.from);
    await idle();
    expect(s.stats).toMatchObject({ completed: 0, nativeTransfers: 1 });
    await sock.close();
    await s.stop();
  });

  it('streams a file larger than the cache with pread(2): lock-step and windowed, exact bytes', async () => {
    const { net, s, idle } = await serve();
    const to = { address: SERVER, port: s.port };
    const loadsBefore = s.cache.loads;
    const lock = await memRead(net, CLIENT, to, { file: 'large', options: [['blksize', '1468']], deadlineMs: 60_000 });
    const win = await memRead(net, CLIENT, to, {
      file: 'large',
      options: [
        ['blksize', '1468'],
        ['windowsize', '16'],
      ],
      deadlineMs: 60_000,
    });
    for (const r of [lock, win]) {
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(large));
    }
    await idle();
    expect(s.cache.loads).toBe(loadsBefore); // never laid out in memory
    expect(s.stats).toMatchObject({ nativeTransfers: 2, completed: 2, failed: 0 });
    await s.stop();
  });

  it('a file cut short under a running transfer ends it with an error packet, never padded', async () => {
    const victim = path.join(dir, 'shrinks');
    fs.writeFileSync(victim, large);
    const { net, s, events, idle, to } = await serve({ rto: PATIENT });
    const { sock, got } = await rawClient(net);
    await sock.send(rrq('shrinks', [['blksize', '1468']]), to);
    await waitFor('the OACK', 5000, () => got.length === 1);
    const tid = got[0]!.from;
    await sock.send(ack(0), tid);
    for (let b = 1; b <= 3; b++) {
      await waitFor(`block ${b}`, 5000, () => dataBlocks(got).includes(b));
      if (b === 3) fs.truncateSync(victim, 1468 * 3); // block 4 is gone before the client asks for it
      await sock.send(ack(b), tid);
    }
    await waitFor('the error packet', 5000, () => got.some((g) => g.buf[1] === 5));
    const err = got.find((g) => g.buf[1] === 5)!.buf;
    expect(err.subarray(4, err.length - 1).toString()).toBe('read error on server');
    expect(dataBlocks(got)).toEqual([1, 2, 3]);
    await idle();
    const e = events.find((x) => x.type === 'tftp.error')!;
    expect(e.data).toMatchObject({ reason: 'io-error', bytes: 1468 * 3 });
    expect(e.data.detail).toBe(`file shrank during the transfer (expected ${large.length} bytes)`);
    await sock.close();
    await s.stop();
  });

  it('garbage on its socket is counted and dropped; a spoofed ACK from another port of the client is never read', async () => {
    const { net, s, events, idle, to } = await serve({ rto: PATIENT });
    const { sock, got } = await rawClient(net);
    const spoof = await rawClient(net); // same address, another port: another TID
    await sock.send(rrq('small', [['blksize', '1024']]), to);
    await waitFor('the OACK', 5000, () => got.length === 1);
    const tid = got[0]!.from;
    await sock.send(ack(0), tid);
    await waitFor('block 1', 5000, () => dataBlocks(got).includes(1));
    // The spoofer acknowledges every block at once; the kernel never hands its datagrams to the connected socket.
    for (let b = 1; b <= 40; b++) await spoof.sock.send(ack(b), tid);
    const garbage = [
      Buffer.from([0, 4, 0]), // shorter than any packet
      Buffer.from([0, 4, 0, 1, 0]), // an ACK of 5 bytes
      Buffer.from([0, 9, 0, 1]), // unknown opcode
      Buffer.from([0, 1, 0x61]), // an RRQ without a terminator
      Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.alloc(100)]), // DATA to a read-only server: ignored, well formed
      Buffer.from([0, 6, 0x61, 0, 0x62, 0]), // a well-formed OACK: ignored
    ];
    for (const g of garbage) await sock.send(g, tid);
    await new Promise((r) => setTimeout(r, 100));
    expect(dataBlocks(got)).toEqual([1]); // nothing above moved the transfer on
    for (let b = 1; b <= 40; b++) {
      await sock.send(ack(b), tid);
      if (b < 40) await waitFor(`block ${b + 1}`, 5000, () => dataBlocks(got).includes(b + 1));
    }
    await idle();
    expect(s.stats).toMatchObject({ malformed: 4, completed: 1, strayTid: 0 });
    expect(spoof.got).toEqual([]);
    expect(events.find((e) => e.type === 'tftp.finish')!.data).toMatchObject({ bytes: 40_000, retransmits: 0 });
    await sock.close();
    await spoof.sock.close();
    await s.stop();
  });

  it('a FIFO planted in a root is refused at once as not a regular file (its open cannot block the loop)', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const { net, s, events, idle, to } = await serve();
    const r = await memRead(net, CLIENT, to, { file: 'fifo', deadlineMs: 5000 });
    expect(r.error).toEqual({ code: 1, message: 'not a regular file: fifo' });
    await idle();
    expect(s.stats).toMatchObject({ refused: 1, openFiles: 0, nativeTransfers: 0 });
    expect(events.map((e) => e.type)).toEqual(['tftp.error']);
    await s.stop();
  });

  it('leaves no descriptor behind: finished, abandoned and aborted transfers', async () => {
    // Quick enough to give up on the abandoned clients, patient enough for a busy machine's stalls.
    await startPumpThreads();
    const { net, s, idle, to } = await serve({ rto: { initialMs: 200, minMs: 100, maxMs: 400, maxRetries: 4 } });
    const before = openFds();
    const done = await Promise.all(
      Array.from({ length: 20 }, () => memRead(net, CLIENT, to, { file: 'small', options: [['blksize', '1468']] })),
    );
    expect(done.every((r) => r.done && r.data.length === 40_000)).toBe(true);
    // Clients that stop answering: the pump gives up on them.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        memRead(net, CLIENT, to, { file: 'large', options: [['blksize', '1468']], stopAfterBlocks: 2, deadlineMs: 500 }),
      ),
    );
    await idle();
    expect(openFds()).toBe(before);
    expect(s.stats).toMatchObject({ completed: 20, failed: 10, nativeTransfers: 30 });
    await s.stop();
  });

  it('under churn, stopped mid-way, three times: every transfer ends exactly once and nothing leaks', async () => {
    // 200 transfers at once on the pump thread: whole lock-step reads, tsize probes, windows, and clients that
    // stop answering; the server stops while most are still running. Each job crosses between the main thread and
    // the pump thread twice (begin, end) and an abort waits for the pump thread: a lost, doubled or late end shows up
    // in the counts, a leaked socket or file in the descriptors.
    await startPumpThreads();
    const before = openFds();
    for (let round = 0; round < 3; round++) {
      const { net, s, events, to } = await serve({ maxPerClient: 1024, rto: { initialMs: 200, minMs: 50, maxMs: 400, maxRetries: 3 } });
      const scripts = [
        { file: 'small', options: [['blksize', '1468']] },
        { file: 'mid', options: [['tsize', '0']], abortAfterOack: true },
        { file: 'large', options: [['blksize', '1468']], stopAfterBlocks: 3, deadlineMs: 3000 },
        {
          file: 'mid',
          options: [
            ['blksize', '1468'],
            ['windowsize', '8'],
          ],
          deadlineMs: 5000,
        },
      ] as const;
      const clients = Array.from({ length: 200 }, (_, i) => {
        const { options, ...rest } = scripts[i % scripts.length]!;
        return memRead(net, CLIENT, to, { ...rest, options: options.map(([k, v]) => [k, v] as [string, string]) });
      });
      await waitFor('most transfers in the pump', 10_000, () => s.stats.nativeTransfers >= 150);
      await s.stop();
      const results = await Promise.all(clients);
      expect(s.stats).toMatchObject({ active: 0, openFiles: 0, openSockets: 0, queued: 0 });
      const st = s.stats;
      expect(st.completed + st.failed + st.probes).toBe(st.nativeTransfers);
      const ended = events.filter((e) => e.type === 'tftp.finish' || e.type === 'tftp.error');
      expect(ended.length).toBe(st.completed + st.failed);
      expect(st.failed).toBeGreaterThan(0); // the stop caught transfers running
      // Every whole read that finished got exact bytes.
      for (const [i, r] of results.entries())
        if (i % scripts.length === 0 && r.done) expect(r.data.equals(Buffer.alloc(40_000, 9))).toBe(true);
    }
    expect(openFds()).toBe(before);
  });

  it('a transfer running when the server stops is aborted: the client hears why, and nothing stays open', async () => {
    await startPumpThreads();
    const before = openFds();
    const { net, s, to } = await serve();
    const { sock, got } = await rawClient(net);
    await sock.send(rrq('large', [['blksize', '1468']]), to);
    await waitFor('the OACK', 5000, () => got.length >= 1);
    await sock.send(ack(0), got[0]!.from);
    await waitFor('block 1', 5000, () => dataBlocks(got).includes(1));
    await s.stop();
    await waitFor('the error packet', 5000, () => got.some((g) => g.buf[1] === 5));
    expect(got.at(-1)!.buf.subarray(4, -1).toString()).toBe('server shutting down');
    expect(s.stats).toMatchObject({ active: 0, openFiles: 0, openSockets: 0, failed: 1 });
    await sock.close();
    expect(openFds()).toBe(before);
  });
});
