/**
 * The node plane's rate-limit key: which requests share one budget. The limiter's own key function runs
 * Node's `net.isIPv6` (one large regular expression) on every request, IPv4 ones included, which showed as
 * a few percent of the main thread in a boot storm's CPU profile (docs/perf/changes.md). An IPv4 address
 * from the socket has no ':' and is its own key; anything else goes through the limiter's normalisation, so
 * the keys are exactly the limiter's: IPv4-mapped IPv6 unwrapped, other IPv6 grouped by /64.
 */
import { normalizeIP } from '@fastify/rate-limit';

/** The limiter's key for a source address as the socket reports it. */
export function rateKey(ip: string): string {
  return ip.includes(':') ? normalizeIP(ip) : ip;
}

/**
 * Headers the limiter adds while a source is under its limit: none. The node plane's clients (firmware, the
 * agent) read no budget headers, and three per response were written into every boot file's header. An
 * answer over the limit still carries them all, `Retry-After` included (the agent honours it).
 */
export const UNDER_LIMIT_HEADERS = {
  'x-ratelimit-limit': false,
  'x-ratelimit-remaining': false,
  'x-ratelimit-reset': false,
} as const;
