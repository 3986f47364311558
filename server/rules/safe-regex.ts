/**
 * The regular expressions of `like` rules, matched in time linear in the text: a Thompson NFA run as a
 * Pike VM (every live state advances one character at a time, no backtracking), so a 64 KiB fact
 * costs the same whatever the pattern, and nothing a node sends can stall the core lock (ReDoS).
 *
 * The subset, with JavaScript's meaning (no flags): literals; `.`; classes `[...]`, `[^...]` with ranges;
 * `\d \D \w \W \s \S`; escapes `\t \n \r \f \v \0 \xHH \uHHHH` and escaped punctuation; groups `(...)`,
 * `(?:...)`, `(?<name>...)`; `|`; `* + ? {n} {n,} {n,m}` (lazy forms too); anchors `^ $ \b \B`.
 * Refused when the rule is saved, with the offset: backreferences, lookaround, unknown escapes, and
 * patterns whose program would exceed MAX_PROGRAM. Matching works on UTF-16 code units, as JS does.
 */

import { parseRegex, SafeRegexError, type Ast, type CharSet } from './regex-parse.ts';

export { SafeRegexError } from './regex-parse.ts';

/** Most instructions a compiled pattern may have: text length times this bounds the work of one match. */
export const MAX_PROGRAM = 2000;
export { MAX_REPEAT } from './regex-parse.ts';

type Inst =
  | { op: 'char'; set: CharSet }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { op: 'assert'; a: '^' | '$' | 'b' | 'B' }
  | { op: 'match' };

/** A compiled pattern: run it with `matches`. */
export interface SafeRegex {
  readonly source: string;
  readonly prog: readonly Inst[];
}

/**
 * The set with ASCII letters of both cases (what the `i` flag does for the text these patterns see:
 * `has_macaddress_like` compares MACs case-insensitively, as Razor does). Negated sets stay negated,
 * so `[^a]` then excludes `a` and `A`, as in JavaScript.
 */
function foldAsciiCase(set: CharSet): CharSet {
  const ranges: [number, number][] = [...set.ranges];
  for (const [lo, hi] of set.ranges) {
    for (const [from, to, shift] of [
      [65, 90, 32],
      [97, 122, -32],
    ] as const) {
      const a = Math.max(lo, from);
      const b = Math.min(hi, to);
      if (a <= b) ranges.push([a + shift, b + shift]);
    }
  }
  return { ranges, neg: set.neg };
}

/** Compile to the instruction list (Thompson's construction), bounded by MAX_PROGRAM. */
function emit(ast: Ast, prog: Inst[], src: string, ignoreCase = false): void {
  const push = (i: Inst): number => {
    if (prog.length >= MAX_PROGRAM)
      throw new SafeRegexError(`pattern is too large (over ${MAX_PROGRAM} steps once repetitions are expanded)`, src.length);
    prog.push(i);
    return prog.length - 1;
  };
  const gen = (a: Ast): void => {
    switch (a.k) {
      case 'empty':
        return;
      case 'set':
        push({ op: 'char', set: ignoreCase ? foldAsciiCase(a.set) : a.set });
        return;
      case 'assert':
        push({ op: 'assert', a: a.a });
        return;
      case 'cat':
        a.items.forEach(gen);
        return;
      case 'alt': {
        const jumps: number[] = [];
        a.items.forEach((item, n) => {
          if (n < a.items.length - 1) {
            const split = push({ op: 'split', x: 0, y: 0 });
            (prog[split] as { x: number }).x = prog.length;
            gen(item);
            jumps.push(push({ op: 'jmp', x: 0 }));
            (prog[split] as { y: number }).y = prog.length;
          } else gen(item);
        });
        for (const j of jumps) (prog[j] as { x: number }).x = prog.length;
        return;
      }
      case 'rep': {
        for (let n = 0; n < a.min; n++) gen(a.item);
        if (a.max === Infinity) {
          const split = push({ op: 'split', x: 0, y: 0 });
          (prog[split] as { x: number }).x = prog.length;
          gen(a.item);
          push({ op: 'jmp', x: split });
          (prog[split] as { y: number }).y = prog.length;
        } else
          for (let n = a.min; n < a.max; n++) {
            const split = push({ op: 'split', x: 0, y: 0 });
            (prog[split] as { x: number }).x = prog.length;
            gen(a.item);
            (prog[split] as { y: number }).y = prog.length;
          }
        return;
      }
    }
  };
  gen(ast);
  push({ op: 'match' });
}

/** Compile a pattern; throws SafeRegexError (with the offset) when it is outside the subset. `ignoreCase`: ASCII letters match either case. */
export function compileSafeRegex(source: string, opts: { ignoreCase?: boolean } = {}): SafeRegex {
  const ast = parseRegex(source);
  const prog: Inst[] = [];
  emit(ast, prog, source, opts.ignoreCase ?? false);
  return { source, prog };
}

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

function inSet(set: CharSet, c: number): boolean {
  let hit = false;
  for (const [lo, hi] of set.ranges)
    if (c >= lo && c <= hi) {
      hit = true;
      break;
    }
  return hit !== set.neg;
}

/** True when the pattern matches anywhere in `text` (like RegExp.prototype.test). Time O(text x program). */
export function matches(re: SafeRegex, text: string): boolean {
  const prog = re.prog;
  const n = text.length;
  // Generation marks dedupe states per position; two lists swap between positions.
  const mark = new Int32Array(prog.length).fill(-1);
  let cur: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];
  /** Follow jumps, splits and assertions from `pc` at position `pos`; true when `match` is reachable. */
  const add = (list: number[], pc0: number, pos: number, gen: number): boolean => {
    stack.push(pc0);
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const ins = prog[pc]!;
      switch (ins.op) {
        case 'match':
          stack.length = 0;
          return true;
        case 'jmp':
          stack.push(ins.x);
          break;
        case 'split':
          stack.push(ins.y, ins.x);
          break;
        case 'assert': {
          const before = pos > 0 ? text.charCodeAt(pos - 1) : -1;
          const after = pos < n ? text.charCodeAt(pos) : -1;
          const boundary = (before >= 0 && isWord(before)) !== (after >= 0 && isWord(after));
          const ok = ins.a === '^' ? pos === 0 : ins.a === '$' ? pos === n : ins.a === 'b' ? boundary : !boundary;
          if (ok) stack.push(pc + 1);
          break;
        }
        case 'char':
          list.push(pc);
          break;
      }
    }
    return false;
  };
  for (let pos = 0; ; pos++) {
    // Unanchored search: a new thread starts at every position (the implicit leading .*?).
    if (add(cur, 0, pos, pos)) return true;
    if (pos >= n) return false;
    const c = text.charCodeAt(pos);
    next.length = 0;
    for (const pc of cur) {
      const ins = prog[pc] as { op: 'char'; set: CharSet };
      if (inSet(ins.set, c) && add(next, pc + 1, pos + 1, pos + 1)) return true;
    }
    [cur, next] = [next, cur];
  }
}

/**
 * Compiled patterns by source, bounded (least recently used goes first). A pattern outside the subset
 * (a rule saved before this check existed) is remembered as null: it matches nothing.
 */
export class PatternCache {
  private readonly items = new Map<string, SafeRegex | null>();

  constructor(private readonly max: number) {}

  /** The compiled pattern, or null when it cannot be compiled. */
  get(source: string, ignoreCase = false): SafeRegex | null {
    const key = `${ignoreCase ? 'i' : 's'}:${source}`;
    let re = this.items.get(key);
    if (re === undefined) {
      try {
        re = compileSafeRegex(source, { ignoreCase });
      } catch {
        re = null;
      }
    } else this.items.delete(key);
    this.items.set(key, re);
    while (this.items.size > this.max) this.items.delete(this.items.keys().next().value as string);
    return re;
  }
}
