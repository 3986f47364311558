/**
 * bench/dhcp/perfdhcp.ts reads perfdhcp's report: a real `-x t` output (test/fixtures/bench/perfdhcp-x-t.txt, its
 * timestamp lists cut to six exchanges of each kind), with every figure worked out by hand from the file's lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePerfdhcp } from '../../bench/dhcp/perfdhcp.ts';

const text = fs.readFileSync(path.join(import.meta.dirname, '../fixtures/bench/perfdhcp-x-t.txt'), 'utf8');

describe('parsePerfdhcp', () => {
  it('reads the counters, and the latencies of each exchange kind apart and together', () => {
    const r = parsePerfdhcp(text, 3000, 5);
    expect([r.sent, r.acks, r.drops, r.perfdhcpRate]).toEqual([14999, 14999, 0, 2499.69]);
    expect(r.rate).toBeCloseTo(2999.8, 6);
    expect([r.avgDo, r.avgRa]).toEqual([0.155, 0.17]);
    // DISCOVER->OFFER, ms: 1.412 1.010 0.794 0.711 0.862 0.638; REQUEST->ACK: 1.363 1.076 1.073 0.891 0.608 0.688.
    expect(r.p99Do).toBeCloseTo(1.412, 6);
    expect(r.p99Ra).toBeCloseTo(1.363, 6);
    // All twelve: rank 6 of the sorted list is 0.891 (p50), the last 1.412 (p99); all were sent in the first 0.5 s.
    expect(r.p50).toBeCloseTo(0.891, 6);
    expect(r.p99).toBeCloseTo(1.412, 6);
    expect(r.p99Start).toBeCloseTo(1.412, 6);
    expect(r.p99Settled).toBeNull();
  });

  it('a report with no timestamp lists (perfdhcp failed to start) gives no latencies rather than zeros', () => {
    const r = parsePerfdhcp(text.split('***Timestamps')[0]!, 3000, 5);
    expect([r.p50, r.p99, r.p99Do, r.p99Ra]).toEqual([null, null, null, null]);
    expect(r.acks).toBe(14999);
  });
});
