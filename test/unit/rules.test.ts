import { describe, it, expect } from 'vitest';
import { validateRule, createsCycle } from '../../server/rules/validate.ts';
import { explainRule } from '../../server/rules/evaluate.ts';

const facts = { manufacturer: 'Dell Inc.', memorysize_mb: 262144, processorcount: '64', is_virtual: false, productname: 'PowerEdge R640' };
const ev = (rule: unknown, tagRules = new Map<string, unknown>()) => explainRule(rule, { facts, tagRules });

describe('rule language', () => {
  it('evaluates every operator', () => {
    expect(ev(['=', ['fact', 'manufacturer'], 'Dell Inc.']).matched).toBe(true);
    expect(ev(['!=', ['fact', 'manufacturer'], 'HPE']).matched).toBe(true);
    expect(ev(['>=', ['num', ['fact', 'processorcount']], 64]).matched).toBe(true);
    expect(ev(['<', ['fact', 'memorysize_mb'], 1000]).matched).toBe(false);
    expect(ev(['<=', 1, 1]).matched).toBe(true);
    expect(ev(['>', 2, 1]).matched).toBe(true);
    expect(ev(['in', ['lower', ['fact', 'manufacturer']], 'hpe', 'dell inc.']).matched).toBe(true);
    expect(ev(['like', ['fact', 'productname'], '^PowerEdge R6\\d0$']).matched).toBe(true);
    expect(ev(['and', ['=', ['fact', 'is_virtual'], false], ['not', ['=', ['fact', 'manufacturer'], 'HPE']]]).matched).toBe(true);
    expect(ev(['or', ['=', 1, 2], ['=', ['str', 5], '5']]).matched).toBe(true);
    expect(ev(['=', ['fact', 'missing', 'dflt'], 'dflt']).matched).toBe(true);
    expect(ev(['tag', 'big'], new Map([['big', ['>', ['fact', 'memorysize_mb'], 100000]]])).matched).toBe(true);
  });
  it('explains why a rule does not match', () => {
    expect(ev(['and', ['=', ['fact', 'manufacturer'], 'HPE'], ['>', ['fact', 'memorysize_mb'], 1]]).reasons).toEqual([
      'fact manufacturer is "Dell Inc.", not "HPE"',
    ]);
    expect(ev(['=', ['fact', 'nope'], 1]).reasons).toEqual(['fact nope is missing, not 1']);
    expect(ev(['or', ['=', 1, 2], ['=', 3, 4]]).reasons).toHaveLength(2);
    expect(ev(['tag', 'x']).reasons).toEqual(['not tagged "x"']);
  });
  it('validates with positions', () => {
    expect(validateRule(['=', ['fact', 'a'], 1])).toEqual([]);
    expect(validateRule('x')[0]!.message).toContain('must be an array');
    expect(validateRule(['and', ['=', 1]])[0]).toEqual({ path: 'rule[1]', message: '"=" takes 2 argument(s), got 1' });
    expect(validateRule(['=', ['fact', ''], 1])[0]!.path).toBe('rule[1][1]');
    expect(validateRule(['=', { a: 1 }, 1])[0]!.message).toContain('objects are not allowed');
    expect(validateRule(['tag', 'y'], new Set(['x']))[0]!.message).toBe('no tag named "y"');
    let deep: unknown = ['=', 1, 1];
    for (let i = 0; i < 40; i++) deep = ['not', deep];
    expect(validateRule(deep).some((p) => p.message.includes('deeper'))).toBe(true);
  });
  it('detects cycles through tag references', () => {
    const rules = new Map<string, unknown>([
      ['a', ['tag', 'b']],
      ['b', ['=', 1, 1]],
    ]);
    expect(createsCycle('b', ['tag', 'a'], rules)).toBe(true);
    expect(createsCycle('c', ['tag', 'a'], rules)).toBe(false);
  });
});
