/**
 * An in-memory UDP network for server tests: sockets are UdpTransports keyed
 * by address:port, datagrams are delivered on a later tick, and a test may
 * drop any datagram.
 */
import type { Peer, UdpTransport } from '../../../server/net/pinned-udp.ts';

type Handler = (buf: Buffer, from: Peer) => void;

/** What the server tests run on: this in-memory net, or real sockets on loopback (loop-net.ts). */
export interface TestNet {
  open(address: string, port: number): UdpTransport | Promise<UdpTransport>;
  drop: (buf: Buffer, from: Peer, to: Peer) => boolean;
  readonly openCount: number;
}

/** The network. */
export class MemNet implements TestNet {
  private readonly socks = new Map<string, Handler[]>();
  private nextPort = 40000;
  /** Return true to drop a datagram. */
  drop: (buf: Buffer, from: Peer, to: Peer) => boolean = () => false;
  /** Datagrams sent, all sockets. */
  sent = 0;

  /** Open a socket on `address` (port 0 = pick one). */
  open(address: string, port: number): UdpTransport {
    const p = port === 0 ? this.nextPort++ : port;
    const k = `${address}:${p}`;
    if (this.socks.has(k)) throw Object.assign(new Error(`address in use ${k}`), { code: 'EADDRINUSE' });
    const handlers: Handler[] = [];
    this.socks.set(k, handlers);
    const me: Peer = { address, port: p };
    return {
      port: p,
      send: async (buf, to) => {
        this.sent++;
        const copy = Buffer.from(buf);
        if (this.drop(copy, me, to)) return;
        setImmediate(() => {
          for (const h of this.socks.get(`${to.address}:${to.port}`) ?? []) h(copy, me);
        });
      },
      onMessage: (fn) => handlers.push(fn),
      close: async () => {
        this.socks.delete(k);
      },
    };
  }

  /** Open sockets (the test checks nothing is left behind). */
  get openCount(): number {
    return this.socks.size;
  }
}
