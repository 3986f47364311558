/**
 * The per-transfer socket: bound to the appliance address on a fresh port
 * (RFC 1350 section 4: the server's TID), pinned to the NIC with
 * `pinToIfindex` like every Crashcart socket, and connect()ed to the client.
 * A connected UDP socket skips the per-datagram address lookup and route
 * selection, and the kernel drops datagrams from any other TID for us.
 * Sends are fire-and-forget (no promise per block); failures are counted.
 */
import dgram from 'node:dgram';
import { bindError } from '../errors/cc-error.ts';
import { pinToIfindex, type Peer, type UdpTransport } from '../net/pinned-udp.ts';

/** Options of one transfer socket. */
export interface ConnectedUdpOptions {
  address: string;
  ifindex: number | null;
  peer: Peer;
  /** Called for every failed send (ENOBUFS, EPERM from a firewall, ...). */
  onSendError: (err: Error) => void;
}

const DONE = Promise.resolve();

/** Open a transfer socket connected to `peer`. */
export async function openConnectedUdp(o: ConnectedUdpOptions): Promise<UdpTransport> {
  const sock = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(bindError(e, 'TFTP transfer', 0)));
    sock.bind({ port: 0, address: o.address, exclusive: true }, () => resolve());
  });
  if (o.ifindex !== null) pinToIfindex(sock, o.ifindex);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(o.peer.port, o.peer.address, () => resolve());
  });
  sock.removeAllListeners('error');
  sock.on('error', (e) => o.onSendError(e));
  const peer = { address: o.peer.address, port: o.peer.port };
  return {
    port: sock.address().port,
    send(buf) {
      sock.send(buf);
      return DONE;
    },
    onMessage: (fn) => sock.on('message', (msg) => fn(msg, peer)),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
