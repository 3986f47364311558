/**
 * Pure checks on where an admin request says it is going and where it comes
 * from: the Host allowlist (DNS rebinding) and the same-origin rule for
 * cookie-authenticated writes (cross-site request forgery). No sockets, no clock.
 */
import net from 'node:net';

/** What the Host allowlist is made of. */
export interface HostPolicy {
  /** The address the admin plane listens on (may be a wildcard). */
  listenHost: string;
  /** Names given with --admin-hostname (lowercase). */
  hostnames: readonly string[];
  /** This machine's addresses; consulted only when listening on a wildcard. */
  localAddresses(): ReadonlySet<string>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The host name of a Host header or an absolute-form authority, lowercased,
 * without port, brackets or trailing dot; null when it is not a bare authority.
 */
export function hostOf(authority: string | undefined): string | null {
  if (!authority || /[\s/?#@\\]/.test(authority)) return null;
  let u: URL;
  try {
    u = new URL(`http://${authority}`);
  } catch {
    return null;
  }
  return u.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/**
 * The authorities a request names: its Host header and, for an absolute-form
 * target (`GET http://x/api HTTP/1.1`, RFC 9112 §3.2.2), the target's own
 * authority, which a server must use instead of Host. Both are checked.
 */
export function requestAuthorities(rawUrl: string, hostHeader: string | undefined): (string | undefined)[] {
  const abs = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(rawUrl);
  return abs ? [hostHeader, abs[1]] : [hostHeader];
}

/** Is `host` (from hostOf) one this admin plane answers to? */
export function hostAllowed(host: string | null, p: HostPolicy): boolean {
  if (host === null) return false;
  if (host === 'localhost' || p.hostnames.includes(host)) return true;
  const fam = net.isIP(host);
  if (fam === 0) return false; // any other name could be rebound to us by its owner's DNS
  if (fam === 4 && host.startsWith('127.')) return true; // 127.0.0.0/8 is loopback (RFC 1122 §3.2.1.3)
  if (host === '::1') return true;
  const listen = p.listenHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === listen) return true;
  return WILDCARDS.has(listen) && p.localAddresses().has(host);
}

/**
 * May a cookie-authenticated write go ahead? Browsers send Origin on every
 * POST/PUT/PATCH/DELETE (Fetch standard, "append a request Origin header"); it
 * must be this very origin. Without Origin, `Sec-Fetch-Site: same-origin` will do.
 */
export function sameOrigin(
  origin: string | undefined,
  secFetchSite: string | undefined,
  hostHeader: string | undefined,
  scheme: 'http' | 'https',
): boolean {
  if (origin !== undefined) {
    if (!hostHeader) return false;
    try {
      return new URL(origin).origin === new URL(`${scheme}://${hostHeader}`).origin;
    } catch {
      return false; // "null" (sandboxed frames, file:) and garbage
    }
  }
  return secFetchSite === 'same-origin';
}
