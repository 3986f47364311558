// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { facetCounts, filterNodes, matchesText, powerLabel, sortNodes } from './node-filter.ts';
import { makeNode } from '../test-fixtures/nodes.ts';

const nodes = Array.from({ length: 30 }, (_, i) => makeNode(i + 1));
const none = { states: [], vendors: [], tags: [] };

describe('node filter', () => {
  it('matches every word of the query against serial, vendor, mac and tags', () => {
    const n = makeNode(6);
    expect(matchesText(n, 'sn1006')).toBe(true);
    expect(matchesText(n, 'dell big-memory')).toBe(true);
    expect(matchesText(n, 'dell supermicro')).toBe(false);
    expect(matchesText(n, n.macs[0]!.toUpperCase())).toBe(true);
  });

  it('combines facets: state, vendor and all chosen tags', () => {
    const mixed = nodes.map((n) => (n.id <= 5 ? { ...n, state: 'bound' as const } : n));
    const out = filterNodes(mixed, '', { states: ['bound'], vendors: ['Dell Inc.'], tags: [] });
    expect(out.map((n) => n.id)).toEqual([2, 4]);
    // makeNode tags every third node big-memory.
    expect(filterNodes(mixed, '', { ...none, tags: ['big-memory'] }).map((n) => n.id)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
  });

  it('counts facet values', () => {
    const c = facetCounts(nodes);
    expect(c.vendors.get('Dell Inc.')).toBe(15);
    expect(c.tags.get('big-memory')).toBe(10);
    expect(c.states.get('registered')).toBe(30);
  });

  it('filters and counts by power: the last report of the BMC, "not checked", or "no BMC"', () => {
    const bmc = {
      driver: 'ipmi' as const,
      address: '10.0.5.1',
      port: 623,
      username: 'u',
      password_set: true,
      system_path: null,
      tls: 'pin' as const,
      tls_fingerprint: null,
      ipmi_cipher_suite: null,
    };
    const at = '2026-11-30T00:00:00.000Z';
    const rack = [
      makeNode(1, { bmc, power: { state: 'on', checked_at: at } }),
      makeNode(2, { bmc, power: { state: 'off', checked_at: at } }),
      makeNode(3, { bmc, power: null }),
      makeNode(4),
    ];
    expect(rack.map(powerLabel)).toEqual(['on', 'off', 'not checked', 'no BMC']);
    expect(filterNodes(rack, '', { ...none, power: ['off', 'no BMC'] }).map((n) => n.id)).toEqual([2, 4]);
    expect(filterNodes(rack, '', none)).toHaveLength(4);
    expect(Object.fromEntries(facetCounts(rack).power)).toEqual({ on: 1, off: 1, 'not checked': 1, 'no BMC': 1 });
    // Sorted by power, the node without a BMC comes last either way.
    expect(
      sortNodes(rack, 'power', 'desc')
        .map((n) => n.id)
        .at(-1),
    ).toBe(4);
    expect(sortNodes(rack, 'power', 'asc').map((n) => n.id)).toEqual([3, 2, 1, 4]);
  });

  it('sorts numerically, both ways, with empty values last', () => {
    const withNull = [...nodes.slice(0, 5), makeNode(99, { hostname: null })];
    const asc = sortNodes(withNull, 'hostname', 'asc').map((n) => n.hostname);
    expect(asc).toEqual(['node1', 'node2', 'node3', 'node4', 'node5', null]);
    const desc = sortNodes(withNull, 'hostname', 'desc').map((n) => n.hostname);
    expect(desc).toEqual(['node5', 'node4', 'node3', 'node2', 'node1', null]);
    const mem = sortNodes(nodes.slice(0, 6), 'memory', 'desc').map((n) => n.summary.memory_mb);
    expect(mem).toEqual([...mem].sort((a, b) => (b ?? 0) - (a ?? 0)));
  });
});
