/**
 * The node-facing HTTP listener, pinned to the provisioning NIC like the UDP sockets (SO_BINDTOIFINDEX).
 * Linux accepts a packet for any local address on any interface (the weak host model), so a host on the
 * office LAN that routes the rack subnet through this machine would otherwise reach the node plane.
 *
 * The socket is pinned between bind(2) and listen(2): pinning after listen would leave a moment in which
 * the kernel completes handshakes from another NIC into the accept queue. Node has no public API for a
 * bound, not yet listening TCP socket, so the TCP handle is made from Node's own tcp_wrap binding (the
 * handle `net.Server.listen({ _handle })` documents accepting).
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { FastifyInstance, FastifyListenOptions } from 'fastify';
import { bindError } from '../errors/cc-error.ts';

const require = createRequire(import.meta.url);

/** SOL_SOCKET on Linux. */
const SOL_SOCKET = 1;
/** SO_BINDTOIFINDEX (Linux 5.0+): pin the socket to one interface by index. */
const SO_BINDTOIFINDEX = 62;

/** The part of Node's TCP handle used here. */
interface TcpHandle {
  readonly fd: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  close(): void;
}
type TcpWrap = { TCP: new (type: number) => TcpHandle; constants: { SERVER: number } };

/** Where and on which interface to listen. */
export interface PinnedListen {
  host: string;
  port: number;
  /** Interface index to pin to; null = not pinned (no NIC chosen: loopback, the simulated rack). */
  ifindex: number | null;
  /** What listens, for error messages. */
  purpose: string;
}

/** Create a TCP socket bound to host:port and pinned to ifindex, not yet listening. */
function boundPinnedHandle(o: PinnedListen & { ifindex: number }): TcpHandle {
  const { TCP, constants } = (process as unknown as { binding(name: 'tcp_wrap'): TcpWrap }).binding('tcp_wrap');
  const handle = new TCP(constants.SERVER);
  const rc = isIP(o.host) === 6 ? handle.bind6(o.host, o.port, 0) : handle.bind(o.host, o.port);
  if (rc !== 0) {
    handle.close();
    const code = getSystemErrorName(rc);
    throw bindError(Object.assign(new Error(`${code} ${o.host}:${o.port}`), { code }), o.purpose, o.port);
  }
  const { setsockopt } = require('sockopt') as { setsockopt: (s: unknown, level: number, opt: number, v: number) => void };
  try {
    setsockopt({ _handle: handle }, SOL_SOCKET, SO_BINDTOIFINDEX, o.ifindex);
  } catch (e) {
    handle.close();
    throw bindError(e, o.purpose, o.port);
  }
  return handle;
}

/** Start a Fastify instance listening on host:port, pinned to the NIC when one is given. */
export async function listenPinned(app: FastifyInstance, o: PinnedListen): Promise<void> {
  if (o.ifindex === null) {
    await app.listen({ host: o.host, port: o.port });
    return;
  }
  const handle = boundPinnedHandle({ ...o, ifindex: o.ifindex });
  // net.Server.listen takes `{ _handle }`; Fastify passes its options object through to it.
  await app.listen({ _handle: handle, host: o.host } as FastifyListenOptions);
}
