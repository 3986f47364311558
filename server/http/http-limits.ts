/**
 * Connection limits of both HTTP planes, from the settings: a client that trickles its headers
 * (slowloris) or its body, or parks idle keep-alive connections, is cut off instead of holding a socket
 * for ever, and no source holds more than its share of connections (connection-caps.ts). Applied before the plane listens (they take effect when it next starts).
 */
import type { Server } from 'node:http';
import type { Settings } from '../settings/settings-service.ts';
import type { Logger } from '../core/plugin.ts';
import { capConnections, defaultCaps, type ConnectionCaps } from './connection-caps.ts';

/** The HTTP planes whose connections share the descriptor budget (connection-caps.ts): node and admin. */
const HTTP_PLANES = 2;

/** How often Node looks for requests past their timeouts (its default of 30 s would let them run that much longer). */
export const CONNECTION_CHECK_MS = 1000;

/** Set the timeouts and the connection caps on a not yet listening Node HTTP server; `purpose` names it in log lines. */
export function applyHttpLimits(
  server: Server,
  s: Readonly<Settings>,
  log: Logger,
  purpose: string,
  caps: ConnectionCaps = defaultCaps(HTTP_PLANES),
): void {
  const request = s.http_request_timeout_s * 1000;
  server.requestTimeout = request;
  // Node requires headersTimeout <= requestTimeout.
  server.headersTimeout = Math.min(s.http_headers_timeout_s * 1000, request);
  server.keepAliveTimeout = s.http_keepalive_timeout_s * 1000;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = CONNECTION_CHECK_MS;
  capConnections(server, caps, log, purpose);
}
