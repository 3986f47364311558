/**
 * Razor's node operators (issue 15): `metadata`, `state`, `upper`, `has_macaddress`, `has_macaddress_like`,
 * evaluated with reasons, validated with positions, and MAC patterns run by the linear-time engine.
 */
import { describe, expect, it } from 'vitest';
import { explainRule, type RuleNode } from '../../server/rules/evaluate.ts';
import { readsNode, validateRule } from '../../server/rules/validate.ts';
import { compileSafeRegex, matches } from '../../server/rules/safe-regex.ts';

const facts = { manufacturer: 'Dell Inc.', macaddress: 'DE:AD:BE:EF:00:01', macaddress_eno2: 'de-ad-be-ef-00-02', hostname: 'web-7' };
const node: RuleNode = {
  state: 'registered',
  metadata: { role: 'web', rack: 12, spare: false, nested: { a: 1 } },
  macs: ['52:54:00:aa:00:01'],
};
const ev = (rule: unknown, n: RuleNode | undefined = node) => explainRule(rule, { facts, node: n, tagRules: new Map() });

describe('node operators', () => {
  it('metadata reads the operator-written metadata, with a default, and never objects', () => {
    expect(ev(['=', ['metadata', 'role'], 'web']).matched).toBe(true);
    expect(ev(['>=', ['metadata', 'rack'], 10]).matched).toBe(true);
    expect(ev(['=', ['metadata', 'spare'], false]).matched).toBe(true);
    expect(ev(['=', ['metadata', 'missing', 'none'], 'none']).matched).toBe(true);
    expect(ev(['=', ['metadata', 'nested'], '{"a":1}']).matched).toBe(false);
    expect(ev(['=', ['metadata', 'role'], 'db']).reasons).toEqual(['metadata role is "web", not "db"']);
    // Without a node record (a rule checked against facts alone) metadata is missing.
    expect(explainRule(['=', ['metadata', 'role'], 'web'], { facts, tagRules: new Map() }).matched).toBe(false);
  });

  it('state is the node state, or true in a named state (Razor keeps a state hash)', () => {
    expect(ev(['=', ['state'], 'registered']).matched).toBe(true);
    expect(ev(['in', ['state'], 'bound', 'installed']).matched).toBe(false);
    expect(ev(['state', 'registered']).matched).toBe(true);
    const r = ev(['state', 'installed']);
    expect(r).toEqual({ matched: false, reasons: ['state is "registered", not "installed"'] });
    expect(ev(['not', ['state', 'installed']]).matched).toBe(true);
    expect(ev(['=', ['state', 'installed', 'no'], 'no']).matched).toBe(true); // not installed: the default
    expect(ev(['=', ['state', 'registered', 'no'], true]).matched).toBe(true);
  });

  it('upper is the counterpart of lower', () => {
    expect(ev(['=', ['upper', ['fact', 'hostname']], 'WEB-7']).matched).toBe(true);
    expect(ev(['=', ['upper', ['metadata', 'rack']], 12]).matched).toBe(true); // numbers pass through
  });

  it('has_macaddress matches any MAC of the record or the macaddress facts, in any spelling', () => {
    expect(ev(['has_macaddress', '52:54:00:AA:00:01']).matched).toBe(true);
    expect(ev(['has_macaddress', 'ff:ff:ff:ff:ff:ff', 'de:ad:be:ef:00:01']).matched).toBe(true);
    expect(ev(['has_macaddress', 'DE-AD-BE-EF-00-02']).matched).toBe(true);
    const r = ev(['has_macaddress', '00:11:22:33:44:55']);
    expect(r.matched).toBe(false);
    expect(r.reasons[0]).toContain('52:54:00:aa:00:01, de:ad:be:ef:00:01, de:ad:be:ef:00:02');
  });

  it('has_macaddress_like matches case-insensitively, as Razor does, with the linear-time engine', () => {
    expect(ev(['has_macaddress_like', '^DE:AD:']).matched).toBe(true);
    expect(ev(['has_macaddress_like', '^De:aD:bE']).matched).toBe(true);
    expect(ev(['has_macaddress_like', '^52:54:00:[aA]{2}:']).matched).toBe(true);
    expect(ev(['has_macaddress_like', '^00:', '^11:']).matched).toBe(false);
    expect(ev(['has_macaddress_like', '[^a-f0-9:]']).matched).toBe(false);
    // Case folding keeps negated classes negated: [^d] excludes both d and D.
    expect(matches(compileSafeRegex('^[^d]', { ignoreCase: true }), 'De')).toBe(false);
    expect(matches(compileSafeRegex('^[^d]', { ignoreCase: true }), 'ae')).toBe(true);
    expect(matches(compileSafeRegex('^ab$'), 'AB')).toBe(false);
  });

  it('a hostile pattern over a long MAC-like fact costs linear time, and stays a test of the MACs only', () => {
    const hostile = { ...facts, macaddress_evil: `${'a'.repeat(65536)}!` };
    const r = explainRule(['has_macaddress_like', '^(a+)+$'], { facts: hostile, node, tagRules: new Map() });
    expect(r.matched).toBe(false);
  });

  it('validates arguments with positions', () => {
    expect(validateRule(['has_macaddress', '52:54:00:aa:00:01'])).toEqual([]);
    expect(validateRule(['has_macaddress', 'nope'])).toEqual([
      { path: 'rule[1]', message: '"nope" is not a MAC address like "de:ad:be:ef:00:01"' },
    ]);
    expect(validateRule(['has_macaddress_like', '^(a)\\1'])[0]!.message).toContain('backreferences');
    expect(validateRule(['state', 'instaled'])[0]).toMatchObject({ path: 'rule[1]', message: expect.stringContaining('not a node state') });
    expect(validateRule(['state', 'installed'])).toEqual([]);
    expect(validateRule(['=', ['state'], 'bound'])).toEqual([]);
    expect(validateRule(['state'])[0]!.message).toContain('gives a value');
    expect(validateRule(['=', ['metadata', ''], 1])[0]!.path).toBe('rule[1][1]');
    expect(validateRule(['metadata', 'role'])[0]!.message).toContain('gives a value');
    expect(validateRule(['=', ['upper', ['fact', 'a']], 'A'])).toEqual([]);
  });

  it('knows which rules read the node record, through tag references too', () => {
    const tags = new Map<string, unknown>([['web', ['=', ['metadata', 'role'], 'web']]]);
    expect(readsNode(['=', ['fact', 'x'], 1], tags)).toBe(false);
    expect(readsNode(['and', ['=', 1, 1], ['state', 'installed']], tags)).toBe(true);
    expect(readsNode(['tag', 'web'], tags)).toBe(true);
  });
});
