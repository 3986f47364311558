/**
 * Node tokens as bytes: minting and the digest they are stored and indexed by
 * (docs/identity.md 2). The rules about who may use which token are in tokens.ts.
 */
import { createHash, randomFillSync } from 'node:crypto';

/** sha256 hex of a token (tokens are stored hashed). */
export function hashToken(t: string): string {
  return createHash('sha256').update(t).digest('hex');
}

const TOKEN_BYTES = 18;
/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time and handed out once each, front to back. One
 * randomBytes(18) call cost about 11 µs warm here (and far more cold, early in a boot storm: a tenth of
 * /boot's CPU), one 4 KiB fill about 5 µs: the same generator, 220 tokens per call into it.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

/** A fresh random token: 144 bits, base64url, so it is URL- and kernel-command-line-safe. */
export function newToken(): string {
  if (used + TOKEN_BYTES > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const t = pool.toString('base64url', used, used + TOKEN_BYTES);
  pool.fill(0, used, used + TOKEN_BYTES); // a byte handed out is not kept
  used += TOKEN_BYTES;
  return t;
}
