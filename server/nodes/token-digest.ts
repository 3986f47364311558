/**
 * Node tokens as bytes: minting and the digest they are stored and indexed by
 * (docs/identity.md 2). The rules about who may use which token are in tokens.ts.
 */
import { createHash, randomBytes } from 'node:crypto';

/** sha256 hex of a token (tokens are stored hashed). */
export function hashToken(t: string): string {
  return createHash('sha256').update(t).digest('hex');
}

/** A fresh random token: 144 bits, base64url, so it is URL- and kernel-command-line-safe. */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}
