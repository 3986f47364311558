/**
 * A scriptable TFTP reader for in-memory server tests: RFC 1350 lock-step or
 * RFC 7440 windows, with knobs for misbehaviour (duplicate ACKs, stop ACKing,
 * abort after OACK, late ACKs).
 */
import { decode, encode, type TftpOption } from '../../../server/tftp/codec.ts';
import type { Peer } from '../../../server/net/pinned-udp.ts';
import type { TestNet } from './mem-net.ts';

/** What the client does. */
export interface ClientScript {
  file: string;
  mode?: string;
  options?: TftpOption[];
  /** Expected windowsize (ACK every Nth block); 1 = lock-step. */
  ackEvery?: number;
  /** Send every ACK twice (provokes the Sorcerer's Apprentice bug in a naive server). */
  doubleAcks?: boolean;
  /** Stop answering after this many DATA blocks. */
  stopAfterBlocks?: number;
  /** Answer the OACK with ERROR 8 (a PXE tsize probe). */
  abortAfterOack?: boolean;
  /** Give up waiting after this many ms. */
  deadlineMs?: number;
  /** The ACK that falls on every `every`-th block (not the last) goes `ms` late: a client busy now and then, as one process simulating a rack is. */
  lateAck?: { every: number; ms: number };
}

/** What the client saw. */
export interface ClientResult {
  data: Buffer;
  oack: TftpOption[] | null;
  error: { code: number; message: string } | null;
  dataPackets: number;
  /** Wire block numbers in arrival order. */
  blocks: number[];
  done: boolean;
  serverPort: number;
}

/** Run one read against `server` from `address`. */
export async function memRead(net: TestNet, address: string, server: Peer, s: ClientScript): Promise<ClientResult> {
  const sock = await net.open(address, 0);
  const res: ClientResult = { data: Buffer.alloc(0), oack: null, error: null, dataPackets: 0, blocks: [], done: false, serverPort: 0 };
  const chunks: Buffer[] = [];
  let expected = 1; // absolute next block
  let blksize = 512;
  let every = s.ackEvery ?? 1;
  let tid: Peer | null = null;
  let sinceAck = 0;
  let gapAcked = false;
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      res.data = Buffer.concat(chunks);
      void sock.close().then(() => resolve(res));
    };
    const timer = setTimeout(end, s.deadlineMs ?? 10_000);
    const ack = (n: number) => {
      const b = encode({ op: 4, block: n & 0xffff });
      void sock.send(b, tid!);
      if (s.doubleAcks) void sock.send(b, tid!);
      sinceAck = 0;
    };
    sock.onMessage((buf, from) => {
      tid ??= from;
      res.serverPort = from.port;
      const p = decode(buf);
      if (p.op === 5) {
        res.error = { code: p.code, message: p.message };
        return end();
      }
      if (p.op === 6) {
        res.oack = p.options;
        for (const [k, v] of p.options) {
          if (k.toLowerCase() === 'blksize') blksize = Number(v);
          if (k.toLowerCase() === 'windowsize') every = Number(v);
        }
        if (s.abortAfterOack) {
          void sock.send(encode({ op: 5, code: 8, message: 'tsize probe done' }), tid);
          return end();
        }
        return ack(0);
      }
      if (p.op !== 3) return;
      res.dataPackets++;
      res.blocks.push(p.block);
      if (s.stopAfterBlocks !== undefined && res.dataPackets > s.stopAfterBlocks) return;
      if (p.block !== (expected & 0xffff)) {
        // RFC 1350: a repeated block is re-ACKed; RFC 7440 section 4: on a gap, ACK the last block received in order, once.
        if (every === 1 || !gapAcked) ack(expected - 1);
        gapAcked = true;
        return;
      }
      chunks.push(Buffer.from(p.data));
      expected++;
      sinceAck++;
      gapAcked = false;
      const last = p.data.length < blksize;
      // RFC 7440 section 4: ACK after every `windowsize` blocks received in order since the last ACK.
      if (last || sinceAck >= every) {
        const n = expected - 1;
        if (!last && s.lateAck && p.block % s.lateAck.every === 0) {
          sinceAck = 0;
          setTimeout(() => ack(n), s.lateAck.ms);
        } else ack(n);
      }
      if (last) {
        res.done = true;
        end();
      }
    });
    void sock.send(encode({ op: 1, filename: s.file, mode: s.mode ?? 'octet', options: s.options ?? [] }), server);
  });
}
