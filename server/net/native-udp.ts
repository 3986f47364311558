/**
 * A pinned UDP socket read in batches by Crashcart's own addon (native/udp-batch.c): recvmmsg(2) drains up to
 * SLOTS datagrams per wakeup and JavaScript is entered once per batch; a reply is one synchronous sendto(2).
 * Same UdpTransport surface and the same socket options as openPinnedUdp (pinned-udp.ts), which stays the
 * fallback when the addon is missing and the path `--dhcp-js` chooses. The DHCP server uses it: through Node's
 * datagram layer every message and every reply paid a MakeCallback, a Buffer and objects made in C++, and a send
 * request completed on a later turn of the loop (docs/perf/changes.md, "DHCP sockets").
 */
import { getSystemErrorName } from 'node:util';
import { bindError } from '../errors/cc-error.ts';
import { loadAddon } from './native-addon.ts';
import type { BatchStats, Peer, PinnedUdpOptions, UdpTransport } from './pinned-udp.ts';

interface OpenOptions {
  address: string;
  port: number;
  ifindex: number;
  broadcast: boolean;
  recvBufferBytes: number;
  data: Buffer;
  meta: Buffer;
  slot: number;
  onBatch: (n: number) => void;
}

interface Addon {
  open(o: OpenOptions): object;
  port(s: object): number;
  send(s: object, buf: Uint8Array, address: string, port: number): number;
  close(s: object): void;
  stats(s: object): number[];
}

/** The loaded addon, or why not (the DHCP plugin says it once at start). */
export const udpBatch = loadAddon<Addon>('udp-batch');

/** Datagrams per batch (one recvmmsg(2), one call into JavaScript). */
const SLOTS = 32;
/** Bytes per datagram slot: a DHCP message on Ethernet is at most 1,472; longer ones are dropped and counted. */
export const UDP_BATCH_SLOT = 2048;
/** Tries of a reply the kernel refused for want of buffer space (EAGAIN, ENOBUFS), one turn of the loop apart. */
const SEND_TRIES = 8;
const RETRYABLE = new Set(['EAGAIN', 'ENOBUFS']); // EWOULDBLOCK is EAGAIN on Linux
const DONE: Promise<void> = Promise.resolve();

/** A UdpTransport on the addon, with its counters. */
export interface BatchedUdp extends UdpTransport {
  stats(): BatchStats;
}

/** Dotted quad of an address in host order. */
function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The errno the addon returned, as Node would throw it. */
function sendError(errno: number, to: Peer): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`send ${code} ${to.address}:${to.port}`), { code, errno: -errno, syscall: 'send' });
}

/** Open a UDP socket bound to `address:port`, pinned to `ifindex`, read in batches. Throws when the addon is missing. */
export async function openBatchedUdp(opts: PinnedUdpOptions): Promise<BatchedUdp> {
  const a = udpBatch.addon;
  if (!a) throw new Error(`the udp-batch addon is not available: ${udpBatch.why}`);
  const data = Buffer.alloc(SLOTS * UDP_BATCH_SLOT);
  const metaBytes = Buffer.alloc(SLOTS * 12);
  const meta = new Uint32Array(metaBytes.buffer, metaBytes.byteOffset, SLOTS * 3);
  const listeners: ((buf: Buffer, from: Peer) => void)[] = [];
  const onBatch = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const len = meta[i * 3]!;
      const off = i * UDP_BATCH_SLOT;
      // A copy of its own: the slot is overwritten by the next batch, and the handler keeps views into its datagram.
      const buf = Buffer.allocUnsafe(len);
      data.copy(buf, 0, off, off + len);
      const from = { address: dotted(meta[i * 3 + 1]!), port: meta[i * 3 + 2]! };
      for (const fn of listeners) {
        try {
          fn(buf, from);
        } catch (e) {
          // As from an 'message' listener: the process's uncaught exception, after the rest of the batch.
          process.nextTick(() => {
            throw e;
          });
        }
      }
    }
  };
  let sock: object;
  try {
    sock = a.open({
      address: opts.address,
      port: opts.port,
      ifindex: opts.ifindex ?? -1,
      broadcast: opts.broadcast ?? false,
      recvBufferBytes: opts.recvBufferBytes ?? 0,
      data,
      meta: metaBytes,
      slot: UDP_BATCH_SLOT,
      onBatch,
    });
  } catch (e) {
    throw bindError(e, opts.purpose, opts.port);
  }
  const trySend = (buf: Uint8Array, to: Peer, tries: number): Promise<void> => {
    const err = a.send(sock, buf, to.address, to.port);
    if (err === 0) return DONE;
    const e = sendError(err, to);
    if (!RETRYABLE.has(e.code!) || tries <= 1) return Promise.reject(e);
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => trySend(buf, to, tries - 1));
  };
  return {
    port: a.port(sock),
    send: (buf, to) => trySend(buf, to, SEND_TRIES),
    onMessage: (fn) => void listeners.push(fn),
    close: async () => a.close(sock),
    stats: () => {
      const [batches = 0, datagrams = 0, oversize = 0, readErrors = 0] = a.stats(sock);
      return { batches, datagrams, oversize, readErrors };
    },
  };
}
