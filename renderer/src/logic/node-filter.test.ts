// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { facetCounts, filterNodes, matchesText, sortNodes } from './node-filter.ts';
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
    expect(filterNodes(mixed, '', { ...none, tags: ['big-memory'] }).every((n) => n.id % 3 === 0)).toBe(true);
  });

  it('counts facet values', () => {
    const c = facetCounts(nodes);
    expect(c.vendors.get('Dell Inc.')).toBe(15);
    expect(c.tags.get('big-memory')).toBe(10);
    expect(c.states.get('registered')).toBe(30);
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
