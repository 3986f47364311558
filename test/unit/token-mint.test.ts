import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { hashToken, newToken } from '../../server/nodes/token-digest.ts';

describe('node tokens (server/nodes/token-digest.ts)', () => {
  it('mints 144-bit base64url tokens, all different, across refills of the random pool', () => {
    // 220 tokens come from one 4 KiB fill: 2,000 cross nine refills.
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newToken();
      expect(t).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(18);
      seen.add(t);
    }
    expect(seen.size).toBe(2000);
  });
  it('spreads the bits: every base64url letter shows up and no position is stuck', () => {
    const tokens = Array.from({ length: 2000 }, () => newToken());
    for (let pos = 0; pos < 24; pos++) expect(new Set(tokens.map((t) => t[pos])).size).toBeGreaterThan(50);
    expect(new Set(tokens.join('')).size).toBe(64);
  });
  it('stores a token as its sha256 hex, never the token', () => {
    const t = newToken();
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).not.toContain(t);
    expect(hashToken(t)).toBe(createHash('sha256').update(t, 'utf8').digest('hex'));
    // The FIPS 180-2 test vector: sha256("abc").
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
