/**
 * NumberIndex (server/core/number-index.ts): the same answers as a Map under any sequence of operations, through
 * its rebuilds, and keys the DHCP server meets (consecutive addresses, addresses above 2^31, MACs of one vendor,
 * perfdhcp's random MACs) spread so that a lookup's probe stays short.
 */
import { describe, expect, it } from 'vitest';
import { NumberIndex } from '../../server/core/number-index.ts';
import { macToNumber } from '../../server/store/lease-slots.ts';

/** A small deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const mac = (i: number) => `52:54:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

describe('NumberIndex', () => {
  it('answers as a Map does through 30,000 random sets and deletes, rebuilding as it fills and empties', () => {
    for (const wide of [false, true]) {
      const next = rng(wide ? 7 : 11);
      // 3,000 distinct keys: small integers, or 48-bit ones (MACs) whose low 32 bits repeat.
      const key = () => {
        const i = Math.floor(next() * 3000);
        return wide ? (i % 7) * 2 ** 40 + (i % 1000) : i;
      };
      const model = new Map<number, number>();
      const m = new NumberIndex(64); // room for 64 at first: the 3,000 keys make it rebuild
      for (let i = 0; i < 30_000; i++) {
        const k = key();
        if (next() < 0.6) {
          m.set(k, i);
          model.set(k, i);
        } else expect(m.delete(k)).toBe(model.delete(k));
        expect(m.get(k)).toBe(model.get(k) ?? -1);
        expect(m.size).toBe(model.size);
      }
      expect(new Map(m.entries())).toEqual(model);
    }
  });

  it('holds 70,000 keys (past several rebuilds) and gives each back', () => {
    const m = new NumberIndex();
    for (let i = 0; i < 70_000; i++) m.set(((10 << 24) | i) >>> 0, i);
    expect(m.size).toBe(70_000);
    for (let i = 0; i < 70_000; i += 997) expect(m.get(((10 << 24) | i) >>> 0)).toBe(i);
    expect(m.get(((11 << 24) | 5) >>> 0)).toBe(-1);
  });

  it('refuses keys it cannot hold exactly, and changes nothing', () => {
    const m = new NumberIndex();
    m.set(0xc0a80001, 1);
    for (const bad of [-1, 1.5, NaN, 2 ** 53, Infinity]) expect(() => m.set(bad, 2)).toThrow(RangeError);
    expect([m.size, m.get(0xc0a80001)]).toEqual([1, 1]);
  });

  it('a rack of keys probes under 2 slots on average: consecutive addresses, high addresses, one vendor, random MACs', () => {
    const n = 20_000;
    const next = rng(3);
    const byte = () =>
      Math.floor(next() * 256)
        .toString(16)
        .padStart(2, '0');
    const sets: number[][] = [
      Array.from({ length: n }, (_, i) => ((10 << 24) | (9 << 16) | i) >>> 0),
      Array.from({ length: n }, (_, i) => ((192 << 24) | (168 << 16) | i) >>> 0),
      Array.from({ length: n }, (_, i) => macToNumber(mac(i))),
      Array.from({ length: n }, () => macToNumber(Array.from({ length: 6 }, byte).join(':'))),
    ];
    for (const keys of sets) {
      const m = new NumberIndex();
      keys.forEach((k, i) => m.set(k, i));
      const probes = m.probeLengths();
      const mean = probes.reduce((a, b) => a + b, 0) / probes.length;
      expect(probes.length).toBe(n);
      expect(mean).toBeLessThan(2);
    }
  });
});
