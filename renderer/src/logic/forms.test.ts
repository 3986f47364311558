// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { addressProblem, rangeProblem, suggestRange } from './ipv4-form.ts';
import { parseRuleText, ruleToText } from './rule-text.ts';
import { buildFactsTree, countMatches, ruleForFact } from './facts-tree.ts';
import { moveItem } from './reorder.ts';
import { bindPercent, bindStep } from './bind-progress.ts';
import { makeNode } from '../test-fixtures/nodes.ts';

describe('setup form validation', () => {
  it('accepts host addresses and rejects malformed, network and broadcast ones', () => {
    expect(addressProblem('10.42.0.1/24')).toBeNull();
    expect(addressProblem('')).toBeNull();
    expect(addressProblem('10.42.0.1')).toMatch(/IP\/PREFIX/);
    expect(addressProblem('10.42.0.0/24')).toMatch(/network or broadcast/);
    expect(addressProblem('10.42.0.300/24')).toMatch(/IP\/PREFIX/);
  });
  it('keeps the range inside the subnet and off the appliance', () => {
    expect(rangeProblem('10.42.0.100-10.42.0.199', '10.42.0.1/24')).toBeNull();
    expect(rangeProblem('10.42.1.100-10.42.1.199', '10.42.0.1/24')).toMatch(/inside 10\.42\.0\.0\/24/);
    expect(rangeProblem('10.42.0.200-10.42.0.100', '10.42.0.1/24')).toMatch(/starts after/);
    expect(rangeProblem('10.42.0.1-10.42.0.50', '10.42.0.1/24')).toMatch(/own address/);
    expect(suggestRange('10.42.0.1/24')).toBe('10.42.0.128-10.42.0.254');
  });
});

describe('rule text', () => {
  it('reports JSON errors with line and column', () => {
    const r = parseRuleText('["=",\n  ["fact" "x"], 1]');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/line 2, column \d+/);
    expect(parseRuleText('{}').ok).toBe(false);
    const good = parseRuleText('["=", ["fact", "a"], 1]');
    expect(good.ok && good.rule).toEqual(['=', ['fact', 'a'], 1]);
    expect(ruleToText(['=', ['fact', 'a'], 1])).toBe('["=",["fact","a"],1]');
  });
});

describe('facts tree', () => {
  it('finds a serial number among facts and inventory, and makes a rule from a fact', () => {
    const roots = buildFactsTree(
      { serialnumber: 'ABC123', manufacturer: 'Dell Inc.' },
      { system: { serial: 'ABC123' }, disks: [{ name: 'sda' }] },
    );
    expect(countMatches(roots, 'abc123')).toBe(2);
    expect(countMatches(roots, 'sda')).toBe(1);
    expect(ruleForFact('manufacturer', 'Dell Inc.')).toEqual(['=', ['fact', 'manufacturer'], 'Dell Inc.']);
  });
});

describe('reorder and bind progress', () => {
  it('moves an item', () => {
    expect(moveItem(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c']);
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
  });
  it('tracks each node from requested to installing', () => {
    expect(bindStep({ ok: false }, makeNode(1))).toBe('rejected');
    expect(bindStep({ ok: true }, makeNode(1, { state: 'bound' }))).toBe('bound');
    expect(bindStep({ ok: true }, makeNode(1, { state: 'installing' }))).toBe('installing');
    expect(bindPercent(['bound', 'installing', 'requested', 'requested'])).toBe(38);
  });
});
