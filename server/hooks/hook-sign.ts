/**
 * Webhook signatures (pure): HMAC-SHA256 (RFC 2104, FIPS 180-4) keyed with the
 * hook's secret over `TIMESTAMP.BODY`, sent as `X-Crashcart-Signature:
 * sha256=<hex>` with `X-Crashcart-Timestamp: <unix seconds>`. Signing the
 * timestamp with the body lets a receiver refuse replays older than a few
 * minutes (docs/hooks.md shows the check).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function signature(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** What a receiver does: true when `header` signs `body` at `timestamp` and the timestamp is within `maxAgeS` of `nowS`. */
export function verifySignature(secret: string, header: string, timestamp: number, body: string, nowS: number, maxAgeS = 300): boolean {
  if (!Number.isInteger(timestamp) || Math.abs(nowS - timestamp) > maxAgeS) return false;
  const want = Buffer.from(signature(secret, timestamp, body));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}
