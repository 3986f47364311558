/**
 * The MemNet interface (mem-net.ts) over real UDP sockets on loopback, for
 * running the server's protocol tests against the native pump, whose sockets
 * are the kernel's. Use 127.0.0.x addresses. `drop` sees every datagram once:
 * a datagram from one of this net's sockets at send time, one from elsewhere
 * (the pump's transfer sockets) when one of this net's sockets receives it.
 */
import dgram from 'node:dgram';
import type { Peer, UdpTransport } from '../../../server/net/pinned-udp.ts';
import type { TestNet } from './mem-net.ts';

/** The network. */
export class LoopNet implements TestNet {
  private readonly mine = new Set<string>();
  /** Return true to drop a datagram. */
  drop: (buf: Buffer, from: Peer, to: Peer) => boolean = () => false;
  /** Datagrams sent from this net's sockets. */
  sent = 0;

  /** Open a socket on `address` (port 0 = pick one). */
  async open(address: string, port: number): Promise<UdpTransport> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port, exclusive: true }, () => resolve());
    });
    sock.removeAllListeners('error');
    sock.on('error', () => undefined); // ICMP port unreachable after a transfer socket closed
    const me: Peer = { address, port: sock.address().port };
    const k = `${me.address}:${me.port}`;
    this.mine.add(k);
    const pending = new Set<Promise<void>>();
    return {
      port: me.port,
      send: (buf, to) => {
        this.sent++;
        if (this.drop(Buffer.from(buf), me, to)) return Promise.resolve();
        const sent = new Promise<void>((resolve) => sock.send(buf, to.port, to.address, () => resolve())).finally(() =>
          pending.delete(sent),
        );
        pending.add(sent);
        return sent;
      },
      onMessage: (fn) =>
        sock.on('message', (buf, rinfo) => {
          const from = { address: rinfo.address, port: rinfo.port };
          if (!this.mine.has(`${from.address}:${from.port}`) && this.drop(buf, from, me)) return;
          fn(buf, from);
        }),
      // dgram queues a send behind an address lookup: closing at once would drop a client's final ACK.
      close: async () => {
        await Promise.allSettled([...pending]);
        this.mine.delete(k);
        await new Promise<void>((resolve) => sock.close(() => resolve()));
      },
    };
  }

  /** Open sockets of this net (the test checks nothing is left behind). */
  get openCount(): number {
    return this.mine.size;
  }
}
