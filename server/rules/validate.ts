/**
 * Validation of tag rules: JSON prefix expressions such as
 * ["and", ["=", ["fact", "manufacturer"], "Dell Inc."], [">=", ["num", ["fact", "memorysize_mb"]], 65536]].
 * Errors name the position (`rule[1][0]`) and what is wrong.
 */

import { NODE_STATES } from '../../contract/node.ts';
import { compileSafeRegex, SafeRegexError } from './safe-regex.ts';

/** Operators and their arity [min, max] (max -1 = unbounded). */
export const OPERATORS: Record<string, [number, number]> = {
  and: [1, -1],
  or: [1, -1],
  not: [1, 1],
  '=': [2, 2],
  '!=': [2, 2],
  '<': [2, 2],
  '<=': [2, 2],
  '>': [2, 2],
  '>=': [2, 2],
  in: [2, -1],
  like: [2, 2],
  fact: [1, 2],
  num: [1, 1],
  str: [1, 1],
  lower: [1, 1],
  upper: [1, 1],
  tag: [1, 1],
  // Node record operators (Razor's): operator-written metadata, the node state, the node's MACs.
  metadata: [1, 2],
  state: [0, 2],
  has_macaddress: [1, -1],
  has_macaddress_like: [1, -1],
};

/** Boolean-valued operators (what a rule's top level must be); `["state", s]` with a name is one too. */
export const BOOLEAN_OPS = new Set([
  'and',
  'or',
  'not',
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'like',
  'tag',
  'has_macaddress',
  'has_macaddress_like',
]);

/** Operators that read the node record, not only its facts (tags using them are re-evaluated when the record changes). */
export const NODE_OPS = new Set(['metadata', 'state', 'has_macaddress', 'has_macaddress_like']);

/** Node states `["state", s]` may name. */
const KNOWN_STATES: ReadonlySet<string> = new Set(NODE_STATES);

const MAX_DEPTH = 32;
const MAX_NODES = 2000;

/** A problem found in a rule. */
export interface RuleProblem {
  path: string;
  message: string;
}

/** Validate a rule; `knownTags` enables checking `["tag", name]` references. Returns [] when valid. */
export function validateRule(rule: unknown, knownTags?: ReadonlySet<string>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  let nodes = 0;
  const walk = (e: unknown, path: string, depth: number, wantBool: boolean): void => {
    if (++nodes > MAX_NODES) {
      if (nodes === MAX_NODES + 1) problems.push({ path, message: `rule is too large (over ${MAX_NODES} terms)` });
      return;
    }
    if (depth > MAX_DEPTH) {
      problems.push({ path, message: `rule nests deeper than ${MAX_DEPTH}` });
      return;
    }
    if (!Array.isArray(e)) {
      if (wantBool) problems.push({ path, message: `expected an expression like ["=", a, b], got ${JSON.stringify(e)}` });
      else if (e !== null && typeof e === 'object')
        problems.push({ path, message: 'objects are not allowed; use a string, number, boolean or an expression' });
      return;
    }
    const [op, ...args] = e as unknown[];
    if (typeof op !== 'string' || !(op in OPERATORS)) {
      problems.push({ path: `${path}[0]`, message: `unknown operator ${JSON.stringify(op)}; known: ${Object.keys(OPERATORS).join(' ')}` });
      return;
    }
    const [min, max] = OPERATORS[op]!;
    if (args.length < min || (max >= 0 && args.length > max)) {
      const want = max < 0 ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
      problems.push({ path, message: `"${op}" takes ${want} argument(s), got ${args.length}` });
      return;
    }
    if (wantBool && !BOOLEAN_OPS.has(op) && !(op === 'state' && args.length >= 1))
      problems.push({ path, message: `"${op}" gives a value, not true/false; compare it, e.g. ["=", ${JSON.stringify(e)}, "x"]` });
    switch (op) {
      case 'and':
      case 'or':
      case 'not':
        args.forEach((a, i) => walk(a, `${path}[${i + 1}]`, depth + 1, true));
        return;
      case 'fact':
        if (typeof args[0] !== 'string' || args[0].length === 0)
          problems.push({ path: `${path}[1]`, message: 'fact name must be a non-empty string' });
        if (args.length === 2 && Array.isArray(args[1]))
          problems.push({ path: `${path}[2]`, message: 'a fact default must be a plain value' });
        return;
      case 'tag':
        if (typeof args[0] !== 'string') problems.push({ path: `${path}[1]`, message: 'tag name must be a string' });
        else if (knownTags && !knownTags.has(args[0])) problems.push({ path: `${path}[1]`, message: `no tag named "${args[0]}"` });
        return;
      case 'metadata':
        if (typeof args[0] !== 'string' || args[0].length === 0)
          problems.push({ path: `${path}[1]`, message: 'metadata key must be a non-empty string' });
        if (args.length === 2 && Array.isArray(args[1]))
          problems.push({ path: `${path}[2]`, message: 'a metadata default must be a plain value' });
        return;
      case 'state':
        if (args.length >= 1 && (typeof args[0] !== 'string' || !KNOWN_STATES.has(args[0])))
          problems.push({ path: `${path}[1]`, message: `${JSON.stringify(args[0])} is not a node state; known: ${NODE_STATES.join(' ')}` });
        if (args.length === 2 && Array.isArray(args[1]))
          problems.push({ path: `${path}[2]`, message: 'a state default must be a plain value' });
        return;
      case 'has_macaddress':
        args.forEach((a, i) => {
          if (typeof a !== 'string' || a.toLowerCase().replace(/[^0-9a-f]/g, '').length !== 12)
            problems.push({ path: `${path}[${i + 1}]`, message: `${JSON.stringify(a)} is not a MAC address like "de:ad:be:ef:00:01"` });
        });
        return;
      case 'has_macaddress_like':
        args.forEach((a, i) => {
          if (typeof a !== 'string') {
            problems.push({ path: `${path}[${i + 1}]`, message: 'a MAC pattern must be a string' });
            return;
          }
          try {
            compileSafeRegex(a, { ignoreCase: true });
          } catch (err) {
            if (!(err instanceof SafeRegexError)) throw err;
            problems.push({ path: `${path}[${i + 1}]`, message: `pattern ${JSON.stringify(a)} ${err.message} (see docs/rules.md)` });
          }
        });
        return;
      case 'like':
        walk(args[0], `${path}[1]`, depth + 1, false);
        if (typeof args[1] !== 'string') problems.push({ path: `${path}[2]`, message: 'the pattern of "like" must be a string' });
        else
          try {
            // Linear-time matching only (ReDoS): the pattern must fit the subset of server/rules/safe-regex.ts.
            compileSafeRegex(args[1]);
          } catch (err) {
            if (!(err instanceof SafeRegexError)) throw err;
            problems.push({ path: `${path}[2]`, message: `pattern ${JSON.stringify(args[1])} ${err.message} (see docs/rules.md)` });
          }
        return;
      default:
        args.forEach((a, i) => walk(a, `${path}[${i + 1}]`, depth + 1, false));
    }
  };
  if (!Array.isArray(rule)) problems.push({ path: 'rule', message: 'a rule must be an array like ["=", ["fact", "x"], "y"]' });
  else walk(rule, 'rule', 0, true);
  return problems;
}

/** True when a rule (or a tag it refers to) reads the node record: metadata, state or MACs. */
export function readsNode(rule: unknown, rulesByTag: ReadonlyMap<string, unknown>, depth = 0): boolean {
  if (!Array.isArray(rule) || depth > 64) return false;
  if (typeof rule[0] === 'string' && NODE_OPS.has(rule[0])) return true;
  if (rule[0] === 'tag' && typeof rule[1] === 'string') return readsNode(rulesByTag.get(rule[1]), rulesByTag, depth + 1);
  return rule.slice(1).some((e) => readsNode(e, rulesByTag, depth + 1));
}

/** Names of tags a rule refers to (for cycle checks). */
export function referencedTags(rule: unknown): string[] {
  const out: string[] = [];
  const walk = (e: unknown): void => {
    if (!Array.isArray(e)) return;
    if (e[0] === 'tag' && typeof e[1] === 'string') out.push(e[1]);
    else e.slice(1).forEach(walk);
  };
  walk(rule);
  return out;
}

/** True when giving tag `name` the rule `rule` would create a cycle among tag references. */
export function createsCycle(name: string, rule: unknown, rulesByTag: ReadonlyMap<string, unknown>): boolean {
  const seen = new Set<string>();
  const stack = referencedTags(rule);
  while (stack.length) {
    const t = stack.pop()!;
    if (t === name) return true;
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push(...referencedTags(rulesByTag.get(t)));
  }
  return false;
}
