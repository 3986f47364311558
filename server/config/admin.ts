/** The admin-plane part of the config: where it listens, which Host names it answers, TLS, session lifetimes. */
import path from 'node:path';
import { ccError } from '../errors/cc-error.ts';
import type { Config } from './schema.ts';
import * as D from './defaults.ts';

/** The admin choices as the operator spells them on the command line. */
export interface AdminInput {
  listen?: string;
  tokenRequired?: boolean;
  hostnames?: string[];
  cert?: string;
  key?: string;
  sessionIdle?: string;
  sessionLifetime?: string;
}

/** The addresses that count as "this machine only" for --admin-listen. */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** `90`, `90s`, `15m`, `8h`, `2d` to seconds. */
export function parseDuration(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = /^(\d{1,9})(s|m|h|d)?$/.exec(v);
  if (!m) throw ccError('CC_ERR_CONFIG_INVALID', `--${flag} must be a duration like 30m, 8h or 2d, got "${v}"`);
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (n < 60) throw ccError('CC_ERR_CONFIG_INVALID', `--${flag} must be at least one minute, got "${v}"`);
  return n;
}

/**
 * Resolve the admin plane. Beyond loopback it needs --admin-token-required and
 * then speaks HTTPS only (issue 10 §1): the certificate given by flag, or one
 * generated into the data dir on first start.
 */
export function resolveAdmin(a: AdminInput): Config['admin'] {
  const listen = a.listen ?? `${D.DEFAULT_ADMIN_HOST}:${D.DEFAULT_ADMIN_PORT}`;
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw ccError('CC_ERR_CONFIG_INVALID', `--admin-listen must be HOST:PORT, got "${listen}"`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackHost(host);
  if (!loopback && !a.tokenRequired) throw ccError('CC_ERR_ADMIN_EXPOSED', listen);
  if (Boolean(a.cert) !== Boolean(a.key))
    throw ccError('CC_ERR_CONFIG_INVALID', '--admin-cert and --admin-key go together (a PEM certificate and its PEM key)');
  const hostnames = (a.hostnames ?? []).map((h) => h.toLowerCase().replace(/\.$/, ''));
  for (const h of hostnames)
    if (!/^[a-z0-9]([a-z0-9.-]{0,252})$/.test(h))
      throw ccError('CC_ERR_CONFIG_INVALID', `--admin-hostname must be a DNS name like crashcart.lab, got "${h}"`);
  const idle = parseDuration('session-idle', a.sessionIdle, D.DEFAULT_SESSION_IDLE_S);
  const max = parseDuration('session-lifetime', a.sessionLifetime, D.DEFAULT_SESSION_MAX_S);
  return {
    host,
    port: Number(m[2]),
    exposed: !loopback,
    hostnames,
    tls: a.cert && a.key ? { cert: path.resolve(a.cert), key: path.resolve(a.key) } : loopback ? null : { cert: null, key: null },
    sessionIdleS: idle,
    sessionMaxS: max,
  };
}
