/**
 * Caps on an HTTP plane's open TCP connections: per source address and in all. The timeouts (http-limits.ts)
 * cut off a connection that trickles or idles, but not the number a host opens: one rack host that opens
 * connections and sends nothing held a file descriptor per connection for `http_headers_timeout_s`, and one that
 * sent a request and then idled held it for the keep-alive time. The process's descriptors are shared by the
 * leases' journal, the stores, TFTP's per-transfer sockets and the admin plane, so running out of them stops
 * the appliance, not just the flooding host's downloads. The TFTP server caps its transfers the same way
 * (tftp/server.ts: in all, and per client).
 *
 * A connection over a cap is reset as it is accepted, before Node's HTTP parser sees it; refusals are logged,
 * at most once per interval per kind with the count (interval-logger.ts), never per connection.
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

/** What a capped plane reports. */
export interface CappedPlane {
  /** Connections open now, per source key. */
  openBySource(): ReadonlyMap<string, number>;
  /** Connections refused since the start, by cap. */
  refused(): { perSource: number; total: number };
}

/** Apply `caps` to a not yet listening server; `purpose` names the plane in log lines. */
export function capConnections(server: Server, caps: ConnectionCaps, parentLog: Logger, purpose: string): CappedPlane {
  // One message per cap, the source in its fields: a host with many addresses gets one line per interval too.
  const log = intervalLogger(parentLog);
  const open = new Map<string, number>();
  const refused = { perSource: 0, total: 0 };
  // Node refuses past maxConnections itself, before the 'connection' event, and reports it as 'drop'.
  server.maxConnections = caps.total;
  server.on('drop', (d?: { remoteAddress?: string }) => {
    refused.total++;
    log.warn({ cap: caps.total, source: d?.remoteAddress ?? null }, `${purpose}: connections refused: the cap in all is reached`);
  });
  // Prepended: ahead of the HTTP server's own listener, so a refused socket never gets a parser.
  server.prependListener('connection', (socket: Socket) => {
    const key = rateKey(socket.remoteAddress ?? '');
    const n = (open.get(key) ?? 0) + 1;
    if (n > caps.perSource) {
      refused.perSource++;
      log.warn({ source: key, cap: caps.perSource }, `${purpose}: connections refused: the cap per source is reached`);
      socket.resetAndDestroy();
      return;
    }
    open.set(key, n);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
  return { openBySource: () => open, refused: () => ({ ...refused }) };
}
