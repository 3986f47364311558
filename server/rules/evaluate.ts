/**
 * Evaluation of validated tag rules against a node's flat facts, with an
 * explanation ("why not") of the comparisons that failed.
 */
import type { Facts } from '../../contract/index.ts';
import { matches, PatternCache } from './safe-regex.ts';

type Value = string | number | boolean | null | undefined;

/** What rules read of the node record besides its facts (Razor's `metadata`, `state` and MAC operators). */
export interface RuleNode {
  state: string;
  /** Operator-written metadata (node page, rack manifest). */
  metadata: Record<string, unknown>;
  macs: readonly string[];
}

/** What a rule can read. */
export interface RuleContext {
  facts: Facts;
  /** The node record; absent (a rule checked against facts alone), node operators see nothing. */
  node?: RuleNode;
  /** Rules of other tags, for ["tag", name]. */
  tagRules: ReadonlyMap<string, unknown>;
  /** Compiled `like` patterns, shared across evaluations (the tag service keeps one). */
  patterns?: PatternCache;
}

/** Outcome with reasons for a false result. */
export interface Explained {
  matched: boolean;
  reasons: string[];
}

const show = (v: Value) => (v === undefined ? 'missing' : JSON.stringify(v));

function toNum(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

/** A MAC as rules compare it: lowercase, `-` or no separator turned into `:` (Razor compares case-insensitively). */
function macText(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const hex = v.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.length === 12 ? hex.match(/../g)!.join(':') : null;
}

/** Every MAC of the node: its record's and its `macaddress*` facts (Razor reads the facts). */
function nodeMacs(ctx: RuleContext): string[] {
  const out = new Set<string>();
  for (const m of ctx.node?.macs ?? []) {
    const t = macText(m);
    if (t) out.add(t);
  }
  for (const [k, v] of Object.entries(ctx.facts))
    if (k.startsWith('macaddress')) {
      const t = macText(v);
      if (t) out.add(t);
    }
  return [...out];
}

/** A metadata value rules can compare: objects and arrays are not values (Razor refuses them too). */
function metaValue(v: unknown): Value {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v) ? (v as Value) : undefined;
}

function loose(a: Value, b: Value): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === typeof b) return a === b;
  const na = toNum(a);
  const nb = toNum(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return String(a) === String(b);
}

/** Evaluate a rule with reasons; `depth` guards tag recursion (cycles are rejected on save). */
export function explainRule(rule: unknown, ctx: RuleContext, depth = 0): Explained {
  const reasons: string[] = [];
  const patterns = ctx.patterns ?? new PatternCache(16);
  const value = (e: unknown): Value => {
    if (!Array.isArray(e)) return e as Value;
    const [op, ...a] = e as [string, ...unknown[]];
    switch (op) {
      case 'fact': {
        const v = ctx.facts[a[0] as string];
        return v === undefined || v === null ? (a.length > 1 ? (a[1] as Value) : undefined) : v;
      }
      case 'num':
        return toNum(value(a[0]));
      case 'str': {
        const v = value(a[0]);
        return v === undefined ? undefined : String(v);
      }
      case 'lower': {
        const v = value(a[0]);
        return typeof v === 'string' ? v.toLowerCase() : v;
      }
      case 'upper': {
        const v = value(a[0]);
        return typeof v === 'string' ? v.toUpperCase() : v;
      }
      case 'metadata': {
        const v = ctx.node ? metaValue(ctx.node.metadata[a[0] as string]) : undefined;
        return v === undefined || v === null ? (a.length > 1 ? (a[1] as Value) : undefined) : v;
      }
      case 'state':
        // ["state"] is the state; ["state", s] is true in state s (Razor keeps a state hash: "installed" => ...),
        // with ["state", s, default] giving `default` otherwise.
        if (a.length === 0) return ctx.node?.state;
        if (ctx.node?.state === a[0]) return true;
        return a.length > 1 ? (a[1] as Value) : false;
      default:
        return test(e);
    }
  };
  const label = (e: unknown): string =>
    Array.isArray(e) && (e[0] === 'fact' || e[0] === 'metadata')
      ? `${e[0]} ${String(e[1])}`
      : Array.isArray(e) && e[0] === 'state' && e.length === 1
        ? 'state'
        : Array.isArray(e) && ['num', 'str', 'lower', 'upper'].includes(e[0] as string)
          ? label(e[1])
          : JSON.stringify(e);
  const test = (e: unknown): boolean => {
    if (!Array.isArray(e)) return Boolean(e);
    const [op, ...a] = e as [string, ...unknown[]];
    switch (op) {
      case 'and':
        return a.every((x) => test(x));
      case 'or': {
        const before = reasons.length;
        const ok = a.some((x) => test(x));
        if (ok) reasons.length = before;
        return ok;
      }
      case 'not': {
        const before = reasons.length;
        const inner = test(a[0]);
        reasons.length = before;
        if (inner) reasons.push(`${JSON.stringify(a[0])} is true`);
        return !inner;
      }
      case 'tag': {
        const r = ctx.tagRules.get(a[0] as string);
        const ok = r !== undefined && depth < 16 && explainRule(r, ctx, depth + 1).matched;
        if (!ok) reasons.push(`not tagged "${String(a[0])}"`);
        return ok;
      }
      case '=':
      case '!=': {
        const x = value(a[0]);
        const y = value(a[1]);
        const ok = op === '=' ? loose(x, y) : x !== undefined && !loose(x, y);
        if (!ok) reasons.push(`${label(a[0])} is ${show(x)}, ${op === '=' ? 'not' : 'which equals'} ${show(y)}`);
        return ok;
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const x = toNum(value(a[0]));
        const y = toNum(value(a[1]));
        const ok = x !== undefined && y !== undefined && (op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y);
        if (!ok) reasons.push(`${label(a[0])} is ${show(x ?? value(a[0]))}, not ${op} ${show(y)}`);
        return ok;
      }
      case 'in': {
        const x = value(a[0]);
        const ok = a.slice(1).some((c) => loose(x, value(c)));
        if (!ok)
          reasons.push(
            `${label(a[0])} is ${show(x)}, not one of ${a
              .slice(1)
              .map((c) => show(value(c)))
              .join(', ')}`,
          );
        return ok;
      }
      case 'state': {
        const want = String(a[0]);
        if (ctx.node?.state === want) return true;
        if (a.length > 1) return Boolean(a[1]);
        reasons.push(`state is ${show(ctx.node?.state)}, not "${want}"`);
        return false;
      }
      case 'has_macaddress': {
        const have = nodeMacs(ctx);
        const ok = a.some((m) => {
          const t = macText(m);
          return t !== null && have.includes(t);
        });
        if (!ok) reasons.push(`no MAC of the node (${have.join(', ') || 'none'}) is ${a.map((m) => show(m as Value)).join(' or ')}`);
        return ok;
      }
      case 'has_macaddress_like': {
        const have = nodeMacs(ctx);
        const res = a.map((p) => patterns.get(String(p), true));
        const ok = res.some((re) => re !== null && have.some((m) => matches(re, m)));
        if (!ok) reasons.push(`no MAC of the node (${have.join(', ') || 'none'}) matches ${a.map((p) => `/${String(p)}/i`).join(' or ')}`);
        return ok;
      }
      case 'like': {
        const x = value(a[0]);
        const re = patterns.get(String(a[1]));
        if (re === null) {
          reasons.push(`pattern /${String(a[1])}/ is outside the supported subset (docs/rules.md); edit the rule`);
          return false;
        }
        const ok = x !== undefined && x !== null && matches(re, String(x));
        if (!ok) reasons.push(`${label(a[0])} is ${show(x).slice(0, 200)}, which does not match /${String(a[1])}/`);
        return ok;
      }
      default:
        return Boolean(value(e));
    }
  };
  const matched = test(rule);
  return { matched, reasons: matched ? [] : reasons };
}

/** Evaluate without collecting reasons' text for the caller. */
export function ruleMatches(rule: unknown, ctx: RuleContext): boolean {
  return explainRule(rule, ctx).matched;
}
