/**
 * The one thin file that opens real UDP sockets pinned to the provisioning NIC
 * (SO_BINDTOIFINDEX via the `sockopt` N-API addon), behind a small transport
 * interface so servers run on an in-memory transport in tests.
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { bindError } from '../errors/cc-error.ts';

const require = createRequire(import.meta.url);

/** SOL_SOCKET on Linux. */
const SOL_SOCKET = 1;
/** SO_BINDTOIFINDEX (Linux 5.0+): pin the socket to one interface by index. */
const SO_BINDTOIFINDEX = 62;
/** SO_RCVBUFFORCE (socket(7)): SO_RCVBUF past net.core.rmem_max, for a process with CAP_NET_ADMIN. */
const SO_RCVBUFFORCE = 33;

/** Where a datagram came from (or goes to). */
export interface Peer {
  address: string;
  port: number;
}

/** The small transport interface every UDP server is written against. */
export interface UdpTransport {
  send(buf: Uint8Array, to: Peer): Promise<void>;
  onMessage(fn: (buf: Buffer, from: Peer) => void): void;
  /** Local port actually bound (useful when asking for port 0). */
  readonly port: number;
  close(): Promise<void>;
  /** What a batched socket counted (native-udp.ts); a Node socket has none. */
  stats?(): BatchStats;
}

/** The counters of a socket read in batches (native-udp.ts; the DHCP plugin's stats show them). */
export interface BatchStats {
  batches: number;
  datagrams: number;
  /** Datagrams longer than a slot, dropped. */
  oversize: number;
  readErrors: number;
}

/** Options of a pinned socket. */
export interface PinnedUdpOptions {
  port: number;
  /** Local address to bind (0.0.0.0 to receive broadcasts). */
  address: string;
  /** Interface index to pin to; null = not pinned (loopback tests). */
  ifindex: number | null;
  broadcast?: boolean;
  reuseAddr?: boolean;
  /** What the socket is for, used in error messages ("DHCP", "TFTP"). */
  purpose: string;
  /**
   * Receive buffer to ask for (SO_RCVBUF, capped by net.core.rmem_max). Bursts
   * (a rack powering on, perfdhcp) overflow the 208 KiB default while the event loop is busy.
   */
  recvBufferBytes?: number;
}

/** setsockopt(SOL_SOCKET, opt, int) through the `sockopt` addon (Node has no API for these options). */
function setSocketInt(sock: dgram.Socket, opt: number, value: number): void {
  const { setsockopt } = require('sockopt') as { setsockopt: (s: unknown, level: number, opt: number, v: number) => void };
  setsockopt(sock, SOL_SOCKET, opt, value);
}

/** Pin an already bound socket to an interface index. */
export function pinToIfindex(sock: dgram.Socket, ifindex: number): void {
  setSocketInt(sock, SO_BINDTOIFINDEX, ifindex);
}

/**
 * Ask for a receive buffer of `bytes`. SO_RCVBUF is capped by net.core.rmem_max (208 KiB on a stock kernel, a few
 * hundred DHCP datagrams at most): a rack powering on at once overflows that while the event loop is busy, and a
 * dropped DISCOVER costs the machine 4 s (the PXE ROM's first retry). The appliance runs with CAP_NET_ADMIN (it
 * serves DHCP), so SO_RCVBUFFORCE lifts the cap; without it the capped size stays. Returns the size the kernel
 * reports (Linux doubles the value asked for, for its bookkeeping).
 */
export function setRecvBuffer(sock: dgram.Socket, bytes: number): number {
  try {
    sock.setRecvBufferSize(bytes);
  } catch {
    /* the kernel keeps its default; only bursts suffer */
  }
  if (sock.getRecvBufferSize() < bytes) {
    try {
      setSocketInt(sock, SO_RCVBUFFORCE, bytes);
    } catch {
      /* no CAP_NET_ADMIN: the capped size stays */
    }
  }
  return sock.getRecvBufferSize();
}

/**
 * The same bytes in a Buffer made by JavaScript. Node builds a received datagram's Buffer in C++ and sets its
 * prototype afterwards, which gives it another hidden class than every Buffer made in JavaScript (`Buffer.from`,
 * `alloc`). Code that V8 optimised on one class is thrown away ("wrong map") when the other arrives: the DHCP warm
 * start (server/dhcp/warm-start.ts) trains the handler on JavaScript Buffers, so without this the first real packets
 * of a storm ran on the interpreter again while the code was rebuilt. One small object per datagram, no copy.
 */
export function asJsBuffer(msg: Buffer): Buffer {
  return Buffer.from(msg.buffer, msg.byteOffset, msg.length);
}

/** Open a UDP socket bound to `address:port` and pinned to `ifindex`. */
export async function openPinnedUdp(opts: PinnedUdpOptions): Promise<UdpTransport> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: opts.reuseAddr ?? false });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(bindError(e, opts.purpose, opts.port)));
    sock.bind({ port: opts.port, address: opts.address, exclusive: true }, () => resolve());
  });
  if (opts.ifindex !== null) pinToIfindex(sock, opts.ifindex);
  if (opts.broadcast) sock.setBroadcast(true);
  if (opts.recvBufferBytes) setRecvBuffer(sock, opts.recvBufferBytes);
  sock.on('error', () => {
    /* send errors are reported per send; the socket lives on */
  });
  return {
    port: sock.address().port,
    send: (buf, to) =>
      new Promise<void>((resolve, reject) => sock.send(buf, to.port, to.address, (err) => (err ? reject(err) : resolve()))),
    onMessage: (fn) => sock.on('message', (msg, rinfo) => fn(asJsBuffer(msg), { address: rinfo.address, port: rinfo.port })),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
