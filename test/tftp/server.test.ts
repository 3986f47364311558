/**
 * The TFTP server's protocol behaviour, real files and real timers, twice: transfers in JavaScript on an
 * in-memory network (mem-net.ts), and transfers in the native pump (native/tftp-pump.c) on real loopback
 * sockets (loop-net.ts). Every case holds both sides to the same rules.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../contract/index.ts';
import { TftpServer, type TftpServerOptions } from '../../server/tftp/server.ts';
import { DEFAULT_RTO } from '../../server/tftp/rto.ts';
import { MemNet } from './helpers/mem-net.ts';
import { LoopNet } from './helpers/loop-net.ts';
import { memRead } from './helpers/mem-client.ts';
import { waitFor } from '../support/wait-for.ts';
import { makeEvent } from '../support/events.ts';

const SERVER = '127.0.0.1';
const CLIENT = '127.0.0.2';
const OTHER = '127.0.0.9';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
/** Quick give-up (about 0.3 s) for the loss and give-up cases; 5 retries ride out a busy test machine's stalls on real sockets. */
const FAST_RTO = { initialMs: 30, minMs: 15, maxMs: 60, maxRetries: 5 };
/** For long transfers that count packets exactly: nothing is dropped, so only a stall of a busy test machine could time out. */
const CALM_RTO = { initialMs: 1000, minMs: 500, maxMs: 2000, maxRetries: 3 };

let dir: string;
let root1: string;
let root2: string;
const bytes = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const files: Record<string, Buffer> = {};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-unit-'));
  root1 = path.join(dir, 'ipxe');
  root2 = path.join(dir, 'custom');
  mkdirSync(root1);
  mkdirSync(path.join(root2, 'sub'), { recursive: true });
  for (const [name, size] of [
    ['zero', 0],
    ['b511', 511],
    ['b512', 512],
    ['b513', 513],
    ['big', 8 * 70_000 + 3],
    ['m1', 1 << 20],
  ] as const) {
    files[name] = bytes(size, size + 7);
    writeFileSync(path.join(root1, name), files[name]);
  }
  files['ipxe.efi'] = bytes(3000, 11);
  files['snponly.efi'] = bytes(2000, 12);
  writeFileSync(path.join(root1, 'ipxe.efi'), files['ipxe.efi']);
  writeFileSync(path.join(root1, 'snponly.efi'), files['snponly.efi']);
  files.both = Buffer.from('root one wins');
  writeFileSync(path.join(root1, 'both'), files.both);
  writeFileSync(path.join(root2, 'both'), 'root two loses');
  files['sub/only2'] = Buffer.from('only in the second root');
  writeFileSync(path.join(root2, 'sub/only2'), files['sub/only2']);
  writeFileSync(path.join(dir, 'secret'), 'outside the roots');
  symlinkSync(path.join(dir, 'secret'), path.join(root2, 'escape'));
  symlinkSync(path.join(root2, 'sub/only2'), path.join(root2, 'inner-link'));
  symlinkSync(path.join(root1, 'b511'), path.join(root2, 'cross-root'));
  // A hidden file, as an image upload in progress is written (images/ID/.NAME.part-PID): present, and never served.
  writeFileSync(path.join(root2, 'sub/.only2.part-77'), 'half an upload');
  writeFileSync(path.join(root1, '.hidden'), 'hidden');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ev {
  type: EventType;
  message: string;
  node_id: number | null;
  data: Record<string, unknown>;
}
type Mode = 'js' | 'native';
async function serveOn(mode: Mode, extra: Partial<TftpServerOptions> = {}) {
  const net = mode === 'js' ? new MemNet() : new LoopNet();
  const events: Ev[] = [];
  /** Events over the transfer-event budget: handed over live, not recorded. */
  const published: Ev[] = [];
  const s = new TftpServer({
    port: 0,
    open: async (port) => net.open(SERVER, port),
    pump: mode === 'native' ? { address: SERVER, ifindex: null } : undefined,
    roots: [root1, root2],
    blksizeCap: 1468,
    rto: FAST_RTO,
    hooks: {
      tftpFileFor: async (ip, name) => (ip === OTHER && name === 'ipxe.efi' ? 'snponly.efi' : name),
      nodeIdForIp: async (ip) => (ip === CLIENT ? 42 : null),
    },
    events: {
      emit(type, e) {
        events.push({ type, message: e.message, node_id: e.node_id ?? null, data: e.data });
        return makeEvent(type, events.length, e);
      },
      publish(type, e) {
        makeEvent(type, 0, e); // checks its data against the contract's row
        published.push({ type, message: e.message, node_id: e.node_id ?? null, data: e.data });
      },
    },
    log: quiet,
    ...extra,
  });
  await s.start();
  const idle = async () => {
    for (let i = 0; i < 400 && (s.stats.active > 0 || s.stats.openFiles > 0 || s.stats.openSockets > 1); i++)
      await new Promise((r) => setTimeout(r, 10));
  };
  return { net, s, events, published, to: { address: SERVER, port: s.port }, idle };
}

describe.each(['js', 'native'] as const)('%s transfers', (mode) => {
  const serve = (extra: Partial<TftpServerOptions> = {}) => serveOn(mode, extra);

  describe('reads', () => {
    it.each(['zero', 'b511', 'b512', 'b513'])('%s: lock-step, no options, exact bytes and block count', async (name) => {
      // CALM_RTO: the finish event must say no resend, which FAST_RTO's 30 ms first wait cannot promise on a busy machine.
      const { net, s, to, events, idle } = await serve({ rto: CALM_RTO });
      const r = await memRead(net, CLIENT, to, { file: name });
      expect(r.error).toBeNull();
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(files[name]!));
      // RFC 1350 section 6: a file that is a multiple of 512 ends with an empty block.
      expect(r.dataPackets).toBe(Math.floor(files[name]!.length / 512) + 1);
      expect(r.serverPort).not.toBe(to.port);
      await idle();
      expect(s.stats).toMatchObject({ completed: 1, failed: 0, active: 0, openFiles: 0, openSockets: 1 });
      expect(s.stats.nativeTransfers).toBe(mode === 'native' ? 1 : 0); // the side this block is named for
      const fin = events.find((e) => e.type === 'tftp.finish')!;
      expect(fin.node_id).toBe(42);
      expect(fin.message).toMatch(new RegExp(`^TFTP ${name} \\d+ B, blksize 512, \\d+\\.\\d s$`));
      expect(fin.data).toMatchObject({
        file: name,
        bytes: files[name]!.length,
        blksize: 512,
        windowsize: 1,
        retransmits: 0,
        reason: 'complete',
      });
      expect(typeof fin.data.duration_ms).toBe('number');
      await s.stop();
    });

    it('sends no duplicate DATA to a client that is busy now and then (every 40th ACK 60 ms late), on the default timer', async () => {
      // DEFAULT_RTO's 200 ms floor. With the 30 ms one each late ACK looked lost and its block went out again, which
      // Karn's rule then kept from teaching the estimate: 4 resends per transfer in the 100-machine boot storm.
      const { net, s, to, events, idle } = await serve({ rto: DEFAULT_RTO });
      const r = await memRead(net, CLIENT, to, { file: 'big', options: [['blksize', '1468']], lateAck: { every: 40, ms: 60 } });
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(files.big!));
      const blocks = Math.floor(files.big!.length / 1468) + 1;
      expect(r.dataPackets).toBe(blocks);
      await idle();
      expect(events.find((e) => e.type === 'tftp.finish')!.data).toMatchObject({ retransmits: 0, reason: 'complete' });
      await s.stop();
    });

    it('rolls block numbers over past 65535 (blksize 8, 70001 blocks, windowsize 64)', async () => {
      const { net, s, to } = await serve({ rto: CALM_RTO });
      const r = await memRead(net, CLIENT, to, {
        file: 'big',
        options: [
          ['blksize', '8'],
          ['windowsize', '64'],
        ],
        deadlineMs: 30_000,
      });
      expect(r.oack).toEqual([
        ['blksize', '8'],
        ['windowsize', '64'],
      ]);
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(files.big!));
      expect(r.dataPackets).toBe(70_001);
      expect(r.blocks[65534]).toBe(65535);
      expect(r.blocks[65535]).toBe(0);
      expect(r.blocks[65536]).toBe(1);
      await s.stop();
    });

    it('negotiates blksize within the cap, tsize, timeout and windowsize, echoing the client spelling', async () => {
      const { net, s, to } = await serve({ rto: CALM_RTO });
      const r = await memRead(net, CLIENT, to, {
        file: 'm1',
        options: [
          ['BLKSIZE', '9000'],
          ['tsize', '0'],
          ['timeout', '3'],
          ['windowsize', '16'],
          ['bogus', '1'],
        ],
      });
      expect(r.oack).toEqual([
        ['BLKSIZE', '1468'],
        ['tsize', String(1 << 20)],
        ['timeout', '3'],
        ['windowsize', '16'],
      ]);
      expect(sha(r.data)).toBe(sha(files.m1!));
      expect(r.dataPackets).toBe(Math.ceil((1 << 20) / 1468));
      await s.stop();
    });

    it("ignores duplicate ACKs in lock-step: every block is sent exactly once (no Sorcerer's Apprentice)", async () => {
      // Slow retransmission timer so only duplicate ACKs could cause a resend here.
      const { net, s, to, idle } = await serve({ rto: { initialMs: 3000, minMs: 3000, maxMs: 3000, maxRetries: 2 } });
      const r = await memRead(net, CLIENT, to, { file: 'b513', doubleAcks: true });
      const r2 = await memRead(net, CLIENT, to, { file: 'm1', doubleAcks: true, options: [['blksize', '1024']] });
      expect(sha(r.data)).toBe(sha(files.b513!));
      expect(r.dataPackets).toBe(2);
      expect(sha(r2.data)).toBe(sha(files.m1!));
      expect(r2.dataPackets).toBe(1025);
      await idle();
      // Every ACK was doubled; the copies of each transfer's final ACK arrive after it ended.
      expect(s.stats.duplicateAcks).toBe(1 + (1 + 1024));
      expect(s.stats.retransmits).toBe(0);
      await s.stop();
    });

    it('recovers from lost DATA and ACKs with a window (every 7th datagram dropped once)', async () => {
      const { net, s, to, idle, events } = await serve();
      let n = 0;
      // The final ACK is spared: this client does not dally after it (RFC 1350 section 6), so a lost one would
      // end the transfer as a timeout on the server while the client has every byte.
      const finalAck = Math.floor((1 << 20) / 1468) + 1;
      net.drop = (buf) => ++n % 7 === 0 && !(buf[1] === 4 && buf.readUInt16BE(2) === finalAck);
      const r = await memRead(net, CLIENT, to, {
        file: 'm1',
        options: [
          ['blksize', '1468'],
          ['windowsize', '8'],
        ],
        deadlineMs: 30_000,
      });
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(files.m1!));
      await idle();
      expect(s.stats.retransmits).toBeGreaterThan(0);
      expect(events.find((e) => e.type === 'tftp.finish')!.data.retransmits).toBe(s.stats.retransmits);
      await s.stop();
    });

    it('serves from the first root that has the name, and from later roots too', async () => {
      const { net, s, to } = await serve();
      expect((await memRead(net, CLIENT, to, { file: 'both' })).data.toString()).toBe('root one wins');
      expect((await memRead(net, CLIENT, to, { file: 'sub/only2' })).data.toString()).toBe('only in the second root');
      expect((await memRead(net, CLIENT, to, { file: 'inner-link' })).data.toString()).toBe('only in the second root');
      // The real path must stay inside the root the name was found in, even if it lands in another root.
      expect((await memRead(net, CLIENT, to, { file: 'cross-root' })).error?.code).toBe(2);
      await s.stop();
    });

    it('applies the per-node override the core decides (ipxe.efi -> snponly.efi)', async () => {
      const { net, s, to, events, idle } = await serve();
      const r = await memRead(net, OTHER, to, { file: 'ipxe.efi' });
      expect(sha(r.data)).toBe(sha(files['snponly.efi']!));
      const plain = await memRead(net, CLIENT, to, { file: 'ipxe.efi' });
      expect(sha(plain.data)).toBe(sha(files['ipxe.efi']!));
      await idle();
      expect(events.filter((e) => e.type === 'tftp.finish').map((e) => e.data.file)).toEqual(['snponly.efi', 'ipxe.efi']);
      await s.stop();
    });
  });

  describe('refusals and hostile input', () => {
    it.each([
      ['../secret', 2],
      ['sub/../../secret', 2],
      // One leading slash is root-relative (GRUB's names): /etc/passwd is etc/passwd under the root, absent.
      ['/etc/passwd', 1],
      ['//etc/passwd', 2],
      ['/../secret', 2],
      ['/\\etc', 2],
      ['..\\secret', 2],
      ['C:\\boot.ini', 2],
      ['escape', 2],
      ['x'.repeat(300), 2],
      ['sub/.only2.part-77', 2],
      ['.hidden', 2],
      ['/.hidden', 2],
      ['', 1],
      ['missing', 1],
      ['sub', 1],
    ])('%s gets error %i and opens nothing', async (name, code) => {
      const { net, s, to, events, idle } = await serve();
      const r = await memRead(net, CLIENT, to, { file: name });
      expect(r.error?.code).toBe(code);
      expect(r.error?.message.length).toBeGreaterThan(5);
      expect(r.data.length).toBe(0);
      await idle();
      expect(s.stats).toMatchObject({ refused: 1, openFiles: 0, active: 0, openSockets: 1 });
      expect(events.map((e) => e.type)).toEqual(['tftp.error']);
      await s.stop();
    });

    it('refuses writes and netascii with an error packet; drops malformed datagrams and keeps serving', async () => {
      const { net, s, to, idle } = await serve();
      const stranger = await net.open(CLIENT, 0);
      const got: Buffer[] = [];
      stranger.onMessage((b) => got.push(b));
      await stranger.send(Buffer.from([0, 2, 0x61, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0]), to); // WRQ "a" octet
      await stranger.send(Buffer.from([0, 1, 0x61]), to); // RRQ without terminator
      await stranger.send(Buffer.from([0, 9, 0, 0]), to); // unknown opcode
      await stranger.send(Buffer.from([0, 4, 0, 1]), to); // ACK to port 69
      await new Promise((r) => setTimeout(r, 30));
      expect(got.map((b) => [b[1], b[3]])).toEqual([[5, 2]]);
      const na = await memRead(net, CLIENT, to, { file: 'b511', mode: 'netascii' });
      expect(na.error?.code).toBe(4);
      expect(na.error?.message).toMatch(/octet/);
      const ok = await memRead(net, CLIENT, to, { file: 'b511', mode: 'OCTET' });
      expect(sha(ok.data)).toBe(sha(files.b511!));
      await idle();
      expect(s.stats).toMatchObject({ writeRefused: 1, malformed: 2, stray: 1, completed: 1 });
      await stranger.close();
      await s.stop();
    });

    it('answers a foreign TID with error 5 and carries on (RFC 1350 section 4)', async () => {
      const { net, s, to } = await serve();
      const intruder = await net.open('127.0.0.66', 0);
      const got: Buffer[] = [];
      intruder.onMessage((b) => got.push(b));
      net.drop = (buf, from, dest) => {
        // Once the transfer socket is known, have the intruder ACK into it.
        if (buf[1] === 3 && buf.readUInt16BE(2) === 1 && from.port !== 69) void intruder.send(Buffer.from([0, 4, 0, 1]), from);
        return dest.address === 'never';
      };
      const r = await memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1468']] });
      expect(sha(r.data)).toBe(sha(files.m1!));
      if (mode === 'js') {
        expect(got.map((b) => [b[1], b[3]])).toEqual([[5, 5]]);
        expect(s.stats.strayTid).toBe(1);
      } else {
        // The pump's socket is connect()ed to the client: the kernel drops the intruder's datagram before anyone
        // reads it (and answers it with ICMP port unreachable, not a TFTP error).
        await new Promise((r) => setTimeout(r, 50));
        expect(got).toEqual([]);
        expect(s.stats.strayTid).toBe(0);
      }
      await intruder.close();
      await s.stop();
    });
  });

  describe('the transfer-event budget (tftp_events_per_min)', () => {
    it('records a stranger flood within it, counts the rest, keeps a known node apart and says how many when it ends', async () => {
      let perMin = 3;
      // The server's clock stopped (it takes `now`): the budget refills nothing during the flood, so the counts below
      // are exact however long this machine takes for the 20 requests.
      const at = performance.now();
      const { net, s, to, events, published, idle } = await serve({ rto: CALM_RTO, eventsPerMin: () => perMin, now: () => at });
      // A machine that is no node (nodeIdForIp: null) asks for a missing file 20 times: each refusal is a tftp.error.
      for (let i = 0; i < 20; i++) expect((await memRead(net, OTHER, to, { file: `missing-${i}` })).error?.code).toBe(1);
      const errors = events.filter((e) => e.type === 'tftp.error');
      expect(errors).toHaveLength(3);
      const suppressed = events.filter((e) => e.type === 'node.suppressed');
      expect(suppressed).toHaveLength(1);
      expect(suppressed[0]!.data).toEqual({ kind: 'tftp_events', source: 'tftp', tripped: true });
      expect(suppressed[0]!.message).toContain('tftp_events_per_min');
      // The other 17 went to the live listeners (the chain recorder), not the log, and were counted.
      expect(published.filter((e) => e.type === 'tftp.error')).toHaveLength(17);
      expect(s.stats.eventsUnrecorded).toBe(17);
      // The positive control: a known node's transfer (CLIENT is node 42) is recorded from its own bucket meanwhile.
      expect((await memRead(net, CLIENT, to, { file: 'b511' })).done).toBe(true);
      await idle();
      expect(events.filter((e) => e.type === 'tftp.start' || e.type === 'tftp.finish').map((e) => [e.type, e.node_id])).toEqual([
        ['tftp.start', 42],
        ['tftp.finish', 42],
      ]);
      // Lifted: the next event is recorded, after a summary with the count, so none went missing unsaid.
      perMin = 0;
      await memRead(net, OTHER, to, { file: 'missing-last' });
      const over = events.filter((e) => e.type === 'node.suppressed').at(-1)!;
      expect(over.data).toEqual({ kind: 'tftp_events', source: 'tftp', dropped: 17, tripped: false });
      expect(events.at(-1)!.type).toBe('tftp.error');
      expect(events.filter((e) => e.type === 'tftp.error')).toHaveLength(4);
      await s.stop();
    });
  });

  describe('giving up, quirks and caps', () => {
    it('gives up on a client that stops ACKing and leaves no socket, file or slot behind', async () => {
      const { net, s, to, events, idle } = await serve();
      const r = await memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1024']], stopAfterBlocks: 3, deadlineMs: 1500 });
      expect(r.done).toBe(false);
      await idle();
      expect(s.stats).toMatchObject({ active: 0, openFiles: 0, openSockets: 1, failed: 1 });
      expect(net.openCount).toBe(1);
      // Block 4 was sent once and retransmitted maxRetries times, then the transfer ended.
      expect(r.blocks.filter((b) => b === 4)).toHaveLength(1 + FAST_RTO.maxRetries);
      const err = events.find((e) => e.type === 'tftp.error')!;
      expect(err.data).toMatchObject({ reason: 'timeout' });
      expect(err.data.retransmits).toBeGreaterThanOrEqual(FAST_RTO.maxRetries); // a floor: see the final-ACK case below
      expect(err.message).toMatch(/^TFTP m1 failed: client stopped acknowledging/);
      await s.stop();
    });

    it.each([
      ['lock-step', [['blksize', '1024']], 1025],
      [
        'windowsize 8',
        [
          ['blksize', '1024'],
          ['windowsize', '8'],
        ],
        1025,
      ],
    ] as const)('%s: a client whose final ACK never arrives has the file: a finish marked final ACK not seen', async (_, options, last) => {
      const { net, s, to, events, idle } = await serve();
      // The client boots at once (as GRUB does): its ACK of the last block never reaches the server.
      net.drop = (buf) => buf[1] === 4 && buf.readUInt16BE(2) === last;
      const r = await memRead(net, CLIENT, to, { file: 'm1', options: options.map(([k, v]) => [k, v]), deadlineMs: 5000 });
      expect(r.done).toBe(true);
      expect(sha(r.data)).toBe(sha(files.m1!));
      await waitFor('the server to give up on the final ACK', 5000, async () => s.stats.active === 0 && s.stats.completed === 1);
      await idle();
      expect(s.stats).toMatchObject({ completed: 1, finalAckUnseen: 1, failed: 0, openFiles: 0 });
      expect(events.filter((e) => e.type === 'tftp.error')).toEqual([]);
      const fin = events.find((e) => e.type === 'tftp.finish')!;
      expect(fin.message).toMatch(/^TFTP m1 1\.0 MB, blksize 1024(, windowsize 8)?, \d+\.\d s, final ACK not seen$/);
      expect(fin.data).toMatchObject({ reason: 'final-ack-unseen', bytes: 1 << 20 });
      // The final block went out maxRetries more times. A stall of a busy test machine longer than FAST_RTO's 15 ms
      // floor resends an earlier block too (its ACK was in time, the timer ran first), so the count is a floor.
      expect(fin.data.retransmits).toBeGreaterThanOrEqual(FAST_RTO.maxRetries);
      expect(String(fin.data.detail)).toMatch(/^final ACK not seen: every block was sent, the client acknowledged 1024 of 1025/);
      await s.stop();
    });

    it('a client that stops one block before the end is still a failure', async () => {
      const { net, s, to, events, idle } = await serve();
      net.drop = (buf) => buf[1] === 4 && buf.readUInt16BE(2) >= 1024; // the ACK of block 1024 is lost, and after it every ACK
      await memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1024']], deadlineMs: 1500 });
      await waitFor('the server to give up', 5000, async () => s.stats.failed === 1);
      await idle();
      expect(s.stats).toMatchObject({ completed: 0, finalAckUnseen: 0, failed: 1 });
      expect(events.find((e) => e.type === 'tftp.error')!.data).toMatchObject({ reason: 'timeout', bytes: 1023 * 1024 });
      await s.stop();
    });

    it('a client stuck at block 1 with a big blksize is offered 512 on its next request', async () => {
      const { net, s, to, events, idle } = await serve();
      const first = await memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1468']], stopAfterBlocks: 0, deadlineMs: 2000 });
      expect(first.error?.message).toMatch(/blksize/);
      await idle();
      expect(events.find((e) => e.type === 'tftp.error')!.data.reason).toBe('stall-block1');
      const again = await memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1468']] });
      expect(again.oack).toEqual([['blksize', '512']]);
      expect(sha(again.data)).toBe(sha(files.m1!));
      await s.stop();
    });

    it('a tsize probe ended with error 8 is a probe, not a failure; the re-request is served', async () => {
      const { net, s, to, events, idle } = await serve();
      const probe = await memRead(net, CLIENT, to, {
        file: 'b513',
        options: [
          ['tsize', '0'],
          ['blksize', '1432'],
        ],
        abortAfterOack: true,
      });
      expect(probe.oack).toEqual([
        ['tsize', '513'],
        ['blksize', '1432'],
      ]);
      const real = await memRead(net, CLIENT, to, { file: 'b513', options: [['blksize', '1432']] });
      expect(sha(real.data)).toBe(sha(files.b513!));
      await idle();
      expect(s.stats).toMatchObject({ probes: 1, failed: 0, completed: 1, openFiles: 0 });
      expect(events.map((e) => e.type)).toEqual(['tftp.start', 'tftp.finish']);
      await s.stop();
    });

    it('queues beyond the per-client cap and refuses with a clear error when the queue is full', async () => {
      const { net, s, to, idle } = await serve({ maxPerClient: 2, maxTransfers: 3, queueMax: 3, rto: CALM_RTO });
      const reads = Array.from({ length: 8 }, () =>
        memRead(net, CLIENT, to, { file: 'm1', options: [['blksize', '1468']], deadlineMs: 20_000 }),
      );
      const rs = await Promise.all(reads);
      const ok = rs.filter((r) => r.done && sha(r.data) === sha(files.m1!));
      const busy = rs.filter((r) => r.error?.message.startsWith('server busy'));
      expect(ok.length).toBe(5);
      expect(busy.length).toBe(3);
      await idle();
      expect(s.stats).toMatchObject({ busyRefused: 3, completed: 5, queued: 0, active: 0, openFiles: 0, openSockets: 1 });
      await s.stop();
    });

    it('stop() waits for a transfer still being set up, which then ends without a socket or file left open', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let entered = false;
      const { net, s, to } = await serve({
        hooks: {
          // The setup is held inside the first hook, as a slow disk or a busy loop would hold it.
          tftpFileFor: async (_ip, name) => {
            entered = true;
            await gate;
            return name;
          },
          nodeIdForIp: async () => null,
        },
      });
      const sock = await net.open(CLIENT, 0);
      const got: Buffer[] = [];
      sock.onMessage((b) => got.push(b));
      await sock.send(Buffer.from([0, 1, 0x62, 0x35, 0x31, 0x31, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0]), to); // b511 octet
      await waitFor('the request to reach the hook', 5000, () => entered);
      expect(s.stats.active).toBe(1);
      let stopped = false;
      const stopping = s.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(stopped).toBe(false); // still waiting for the setup
      release();
      await stopping;
      expect(s.stats).toMatchObject({ active: 0, openFiles: 0, openSockets: 0 });
      expect(got.filter((b) => b[1] === 3)).toEqual([]); // no DATA after stop
      await sock.close();
    });

    it('a re-sent request for a running transfer does not start a second one', async () => {
      // CALM_RTO: the transfer waits seconds for the ACK of its OACK, so it is still running when checked.
      const { net, s, to } = await serve({ rto: CALM_RTO });
      const sock = await net.open(CLIENT, 0);
      /** What came back, as "port packet-hex": a second transfer would answer from a port of its own. */
      const got: string[] = [];
      sock.onMessage((b, from) => got.push(`${from.port} ${b.toString('hex')}`));
      const rrq = Buffer.from([0, 1, 0x62, 0x35, 0x31, 0x31, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0, 0x74, 0x73, 0x69, 0x7a, 0x65, 0, 0x30, 0]); // b511 octet tsize 0
      await sock.send(rrq, to);
      await sock.send(rrq, to);
      await waitFor(
        'the answer, and the second request handled',
        5000,
        () => got.length > 0 && s.stats.duplicateRequests + s.stats.active > 1,
      );
      expect(s.stats).toMatchObject({ duplicateRequests: 1, active: 1 });
      // One answer, the OACK with the file's size, from the one transfer's port (a resend after a stall is the same).
      const oack = Buffer.from([0, 6, ...Buffer.from('tsize\0' + '511\0')]).toString('hex');
      expect([...new Set(got)]).toEqual([`${got[0]!.split(' ')[0]} ${oack}`]);
      await sock.close();
      await s.stop();
      expect(s.stats).toMatchObject({ active: 0, openFiles: 0, openSockets: 0 });
    });
  });
});
