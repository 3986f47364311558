/**
 * Caps on an HTTP plane's open TCP connections: per source address and in all. The timeouts (http-limits.ts)
 * cut off a connection that trickles or idles, but not the number a host opens: one rack host that opens
 * connections and sends nothing held a file descriptor per connection for `http_headers_timeout_s`, and one that
 * sent a request and then idled held it for the keep-alive time. The process's descriptors are shared by the
 * leases' journal, the stores, TFTP's per-transfer sockets and the admin plane, so running out of them stops
 * the appliance, not just the flooding host's downloads. The TFTP server caps its transfers the same way
 * (tftp/server.ts: in all, and per client).
 *
 * At a cap the oldest idle connection makes room (capConnections); a connection that finds none is reset as it is
 * accepted, before Node's HTTP parser sees it. Both are logged at most once per interval per kind with the count
 * (interval-logger.ts), never per connection.
 */
import type { Server, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/plugin.ts';
import { intervalLogger } from '../core/interval-logger.ts';
import { rateKey } from './rate-key.ts';

/**
 * Open connections per source (IPv4 address, IPv6 /64: the rate limiter's key). Firmware, iPXE, an installer
 * and the agent each use one or two at a time; the simulated rack (`--lab`) shares 64 keep-alive sockets
 * (LAB_MAX_SOCKETS) from one address, a benchmark client 50, a lab host behind NAT more.
 */
export const DEFAULT_HTTP_CONNECTIONS_PER_SOURCE = 128;
/**
 * Open connections in all, when the descriptor limit allows it: a 500-machine storm holds about one connection
 * per machine at its peak (bench/storm), and the TFTP server's 1,024 transfers need a socket each beside these.
 */
export const DEFAULT_HTTP_CONNECTIONS_MAX = 4096;
/** The share of the process's descriptor limit the HTTP planes' connections may take together. */
const FD_SHARE = 0.5;
/** No source may hold more than this share of a plane's connections, so a few hosts cannot fill it. */
const SOURCE_SHARE = 0.25;

/** How many connections a plane keeps open. */
export interface ConnectionCaps {
  perSource: number;
  total: number;
}

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start), or null off Linux. */
export function descriptorLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? null : Number(m[1]);
}

/**
 * The caps for one of `planes` planes: the defaults, lowered so that all planes together stay within FD_SHARE of
 * the descriptor limit (a desktop session's hard limit can be as low as 4,096), and one source within SOURCE_SHARE.
 */
export function defaultCaps(planes: number, fdLimit: number | null = descriptorLimit()): ConnectionCaps {
  const byFds = fdLimit === null ? Infinity : Math.floor((fdLimit * FD_SHARE) / planes);
  const total = Math.max(1, Math.min(DEFAULT_HTTP_CONNECTIONS_MAX, byFds));
  return { total, perSource: Math.max(1, Math.min(DEFAULT_HTTP_CONNECTIONS_PER_SOURCE, Math.floor(total * SOURCE_SHARE))) };
}

/**
 * Apply `caps` to a not yet listening server; `purpose` names the plane in log lines.
 *
 * At a cap, the oldest idle connection (of that source, or of any for the cap in all) is closed to make room: one with
 * no request in flight, so a keep-alive connection between requests, or one that has not sent a whole request head
 * yet. Only when every connection at the cap has a request in flight is the new one refused. A client that keeps
 * idle keep-alive connections (an HTTP library's pool) is never locked out by its own, and connections that send
 * nothing give way to ones that do: a flood holds its place only with requests in flight, which the request timeout
 * and the body budget (body-budget.ts) bound.
 */
export function capConnections(server: Server, caps: ConnectionCaps, parentLog: Logger, purpose: string): void {
  // One message per kind, the source in its fields: a host with many addresses gets one line per interval too.
  const log = intervalLogger(parentLog);
  const all = new Set<Socket>();
  const bySource = new Map<string, Set<Socket>>();
  // The latest request's answer per connection: the connection is idle once that answer is done (HTTP/1.1 answers a
  // connection's requests in order). One WeakMap write per request, no listener: this runs on every check-in.
  const latest = new WeakMap<Socket, { writableFinished: boolean; destroyed: boolean }>();
  const busy = (socket: Socket): boolean => {
    const res = latest.get(socket);
    return res !== undefined && !res.writableFinished && !res.destroyed;
  };

  const forget = (socket: Socket, key: string) => {
    all.delete(socket);
    const mine = bySource.get(key);
    if (!mine) return;
    mine.delete(socket);
    if (mine.size === 0) bySource.delete(key);
  };
  const keyOf = new WeakMap<Socket, string>();
  /** Close the oldest connection of `set` with no request in flight; false when every one has one. */
  const closeIdle = (set: Set<Socket>, cap: string): boolean => {
    for (const old of set) {
      if (busy(old)) continue;
      forget(old, keyOf.get(old) ?? '');
      old.destroy();
      log.warn({ source: keyOf.get(old) ?? null, cap }, `${purpose}: idle connections closed to make room at a connection cap`);
      return true;
    }
    return false;
  };

  // A request is in flight from its head (the 'request' event) to the end of its answer.
  server.on('request', (req: { socket: Socket }, res: { writableFinished: boolean; destroyed: boolean }) => latest.set(req.socket, res));
  // Prepended: ahead of the HTTP server's own listener, so a refused socket never gets a parser.
  server.prependListener('connection', (socket: Socket) => {
    const key = rateKey(socket.remoteAddress ?? '');
    const mine = bySource.get(key);
    const room =
      (!mine || mine.size < caps.perSource || closeIdle(mine, 'per source')) && (all.size < caps.total || closeIdle(all, 'in all'));
    if (!room) {
      log.warn(
        { source: key, per_source: caps.perSource, total: caps.total },
        `${purpose}: connection refused: every connection at the cap has a request in flight`,
      );
      socket.resetAndDestroy();
      return;
    }
    keyOf.set(socket, key);
    all.add(socket);
    if (mine) mine.add(socket);
    else bySource.set(key, new Set([socket]));
    socket.once('close', () => forget(socket, key));
  });
}
