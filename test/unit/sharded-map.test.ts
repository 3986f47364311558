/**
 * ShardedMap (server/core/sharded-map.ts): the same answers as a Map under any sequence of operations, and keys
 * the DHCP server meets (consecutive addresses, MACs of one vendor, perfdhcp's) spread so that no shard holds much
 * more than its share: a shard's growth is the longest the index can stall.
 */
import { describe, expect, it } from 'vitest';
import { SHARDS, ShardedMap, shardOf } from '../../server/core/sharded-map.ts';
import { intToIp } from '../../server/net/ipv4.ts';

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

/** The most keys one shard holds. */
function fullest(keys: Iterable<string | number>): number {
  const per = new Array<number>(SHARDS).fill(0);
  for (const k of keys) per[shardOf(k)]!++;
  return Math.max(...per);
}

describe('ShardedMap', () => {
  it('answers as a Map does through 20,000 random sets, deletes and clears (string and number keys)', () => {
    for (const kind of ['string', 'number'] as const) {
      const next = rng(kind === 'string' ? 7 : 11);
      const key = (): string | number => (kind === 'string' ? mac(Math.floor(next() * 3000)) : Math.floor(next() * 3000));
      const model = new Map<string | number, number>();
      const m = new ShardedMap<string | number, number>();
      for (let i = 0; i < 20_000; i++) {
        const k = key();
        const r = next();
        if (r < 0.6) {
          expect(m.set(k, i)).toBe(m);
          model.set(k, i);
        } else if (r < 0.9995) expect(m.delete(k)).toBe(model.delete(k));
        else {
          m.clear();
          model.clear();
        }
        expect(m.get(k)).toBe(model.get(k));
        expect(m.has(k)).toBe(model.has(k));
        expect(m.size).toBe(model.size);
      }
      const sorted = <T>(xs: Iterable<T>) => [...xs].sort((a, b) => String(a).localeCompare(String(b)));
      expect(sorted(m.keys())).toEqual(sorted(model.keys()));
      expect(sorted(m.values())).toEqual(sorted(model.values()));
      expect(sorted([...m].map(([k, v]) => `${k}=${v}`))).toEqual(sorted([...model].map(([k, v]) => `${k}=${v}`)));
      expect(new Map(m.entries())).toEqual(model);
    }
  });

  it('a value of undefined is held (has, size) as a Map holds it', () => {
    const m = new ShardedMap<string, undefined>();
    m.set('a', undefined);
    expect([m.has('a'), m.size, m.get('a')]).toEqual([true, 1, undefined]);
    m.set('a', undefined);
    expect(m.size).toBe(1);
  });

  it('entries may be deleted while iterating, as with a Map', () => {
    const m = new ShardedMap<number, number>();
    for (let i = 0; i < 1000; i++) m.set(i, i);
    for (const [k] of m) if (k % 2 === 0) m.delete(k);
    expect(m.size).toBe(500);
    expect([...m.keys()].every((k) => k % 2 === 1)).toBe(true);
  });

  it('spreads the keys a rack brings: no shard holds more than twice its share', () => {
    const n = 65_536;
    const share = n / SHARDS;
    // A /16 pool handed out in order, as integers (the lease table) and as dotted quads (the lease file).
    const ints = Array.from({ length: n }, (_, i) => ((10 << 24) | (9 << 16) | i) >>> 0);
    expect(fullest(ints)).toBeLessThanOrEqual(2 * share);
    expect(fullest(ints.map(intToIp))).toBeLessThanOrEqual(2 * share);
    // One vendor's MACs in sequence, and random ones (perfdhcp's -R clients).
    expect(fullest(Array.from({ length: n }, (_, i) => mac(i)))).toBeLessThanOrEqual(2 * share);
    const next = rng(3);
    const random = Array.from({ length: n }, () =>
      Array.from({ length: 6 }, () =>
        Math.floor(next() * 256)
          .toString(16)
          .padStart(2, '0'),
      ).join(':'),
    );
    expect(fullest(random)).toBeLessThanOrEqual(2 * share);
  });
});
