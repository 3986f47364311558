/**
 * The TFTP side of a simulated PXE ROM, with Crashcart's own codec: a tsize probe (RRQ with tsize, OACK,
 * ERROR 8, as Intel ROMs do), then the real read with blksize 1468 and tsize, lock-step (PXE ROMs do not
 * negotiate windowsize), re-sending its last packet after 1 s of silence (4 tries).
 */
import dgram from 'node:dgram';
import { decode, encode, ErrorCode, Opcode, type TftpPacket } from '../../server/tftp/codec.ts';
import { pinToIfindex } from '../../server/net/pinned-udp.ts';

/** What a read gave. */
export interface TftpResult {
  bytes: number;
  blksize: number;
  /** Packets sent again after a timeout. */
  retries: number;
}

const WAIT_MS = 1000;
const TRIES = 4;

/** One UDP socket of the ROM's stack: a fresh port (TID, RFC 1350 4) per read request. */
class TftpSocket {
  private readonly sock = dgram.createSocket('udp4');
  private inbox: ((p: TftpPacket, from: dgram.RemoteInfo) => void) | null = null;
  private readonly pending = new Set<Promise<void>>();
  retries = 0;

  async open(ip: string, ifindex: number): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject);
      this.sock.bind(0, ip, () => resolve());
    });
    pinToIfindex(this.sock, ifindex);
    this.sock.on('message', (buf, from) => {
      try {
        this.inbox?.(decode(buf), from);
      } catch {
        /* malformed: a ROM ignores it */
      }
    });
    return this;
  }

  send(pkt: Buffer, to: { address: string; port: number }): void {
    const sent: Promise<void> = new Promise<void>((resolve) => this.sock.send(pkt, to.port, to.address, () => resolve())).finally(() =>
      this.pending.delete(sent),
    );
    this.pending.add(sent);
  }

  /** Send `pkt` to `to` and wait for the next packet `accept` takes (or an ERROR), re-sending on silence. */
  async ask(
    pkt: Buffer,
    to: { address: string; port: number },
    accept: (p: TftpPacket) => boolean,
  ): Promise<[TftpPacket, dgram.RemoteInfo]> {
    for (let t = 0; t < TRIES; t++) {
      if (t > 0) this.retries++;
      const got = new Promise<[TftpPacket, dgram.RemoteInfo] | null>((resolve) => {
        const timer = setTimeout(() => {
          this.inbox = null;
          resolve(null);
        }, WAIT_MS);
        this.inbox = (p, from) => {
          if (p.op === Opcode.ERROR || accept(p)) {
            clearTimeout(timer);
            this.inbox = null;
            resolve([p, from]);
          }
        };
      });
      this.send(pkt, to);
      const r = await got;
      if (r) {
        if (r[0].op === Opcode.ERROR) throw new Error(`TFTP error ${r[0].code}: ${r[0].message}`);
        return r;
      }
    }
    throw new Error(`TFTP: no answer after ${TRIES} tries`);
  }

  /**
   * dgram sends after an address lookup on the next tick: closing at once dropped the probe's ERROR 8 and the final
   * ACK, so every server kept both transfers retransmitting until it gave up (a real ROM's stack sends them).
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.sock.close();
  }
}

/** Read `file` from `server`:69 out of `ifindex` from `ip`. Throws with the reason. */
export async function tftpRead(server: string, file: string, ip: string, ifindex: number): Promise<TftpResult> {
  const s69 = { address: server, port: 69 };
  // The probe: learn the size, then end that transfer with error 8 (RFC 2347: option negotiation declined).
  const p = await new TftpSocket().open(ip, ifindex);
  let size = NaN;
  try {
    const [probe, from] = await p.ask(
      encode({ op: Opcode.RRQ, filename: file, mode: 'octet', options: [['tsize', '0']] }),
      s69,
      (x) => x.op === Opcode.OACK,
    );
    p.send(encode({ op: Opcode.ERROR, code: ErrorCode.OPTION_REFUSED, message: 'tsize probe' }), from);
    size = Number((probe.op === Opcode.OACK ? probe.options : []).find(([k]) => k.toLowerCase() === 'tsize')?.[1] ?? NaN);
  } finally {
    await p.close();
  }
  const s = await new TftpSocket().open(ip, ifindex);
  try {
    const rrq = encode({
      op: Opcode.RRQ,
      filename: file,
      mode: 'octet',
      options: [
        ['blksize', '1468'],
        ['tsize', String(size)],
      ],
    });
    const [oack, tid] = await s.ask(rrq, s69, (x) => x.op === Opcode.OACK || x.op === Opcode.DATA);
    const peer = { address: tid.address, port: tid.port };
    let blksize = 512;
    let next = 1;
    let bytes = 0;
    let first: TftpPacket | null = oack.op === Opcode.DATA ? oack : null;
    if (oack.op === Opcode.OACK) blksize = Number(oack.options.find(([k]) => k.toLowerCase() === 'blksize')?.[1] ?? 512);
    let ack = encode({ op: Opcode.ACK, block: 0 });
    for (;;) {
      const data: TftpPacket = first ?? (await s.ask(ack, peer, (x) => x.op === Opcode.DATA && x.block === (next & 0xffff)))[0];
      first = null;
      if (data.op !== Opcode.DATA) throw new Error('TFTP: expected DATA');
      bytes += data.data.length;
      ack = encode({ op: Opcode.ACK, block: data.block });
      next++;
      if (data.data.length < blksize) {
        s.send(ack, peer); // RFC 1350 6: the final ACK
        break;
      }
    }
    if (Number.isFinite(size) && bytes !== size) throw new Error(`TFTP: got ${bytes} bytes, tsize said ${size}`);
    return { bytes, blksize, retries: p.retries + s.retries };
  } finally {
    await s.close();
  }
}
