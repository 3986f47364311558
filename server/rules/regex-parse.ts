/**
 * Parser of the `like` pattern subset (see safe-regex.ts for the subset and why): pattern text to a small
 * syntax tree, with JavaScript's meaning, refusing what the linear-time matcher cannot run. Pure.
 */

/** A pattern outside the subset, with where. */
export class SafeRegexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`at offset ${offset}: ${message}`);
    this.name = 'SafeRegexError';
  }
}

/** Largest repetition count in `{n,m}`. */
export const MAX_REPEAT = 1000;

/** Inclusive UTF-16 code-unit ranges; `neg` inverts. */
export interface CharSet {
  ranges: [number, number][];
  neg: boolean;
}

/** The syntax tree: sets of characters, anchors, sequences, alternatives, bounded or open repetitions. */
export type Ast =
  | { k: 'empty' }
  | { k: 'set'; set: CharSet }
  | { k: 'assert'; a: '^' | '$' | 'b' | 'B' }
  | { k: 'cat'; items: Ast[] }
  | { k: 'alt'; items: Ast[] }
  | { k: 'rep'; item: Ast; min: number; max: number };

const DIGIT: [number, number][] = [[48, 57]];
const WORD: [number, number][] = [
  [48, 57],
  [65, 90],
  [95, 95],
  [97, 122],
];
// ECMAScript WhiteSpace and LineTerminator (the meaning of \s).
const SPACE: [number, number][] = [
  [9, 13],
  [32, 32],
  [160, 160],
  [5760, 5760],
  [8192, 8202],
  [8232, 8233],
  [8239, 8239],
  [8287, 8287],
  [12288, 12288],
  [65279, 65279],
];
// What `.` does not match without the s flag.
const LINE_END: [number, number][] = [
  [10, 10],
  [13, 13],
  [8232, 8233],
];
const one = (c: number): CharSet => ({ ranges: [[c, c]], neg: false });

/** Parser over the pattern text; `i` is the offset of the next character. */
class Parser {
  i = 0;
  constructor(private readonly src: string) {}

  fail(msg: string, at = this.i): never {
    throw new SafeRegexError(msg, at);
  }

  parse(): Ast {
    const ast = this.alt();
    if (this.i < this.src.length) this.fail(`unmatched "${this.src[this.i]}"`);
    return ast;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alt(): Ast {
    const items = [this.cat()];
    while (this.peek() === '|') {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private cat(): Ast {
    const items: Ast[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) items.push(this.quantified());
    return items.length === 0 ? { k: 'empty' } : items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  private quantified(): Ast {
    const start = this.i;
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    if (atom.k === 'assert') this.fail('nothing to repeat (an anchor cannot be repeated)', start);
    if (this.peek() === '?') this.i++; // lazy: the same for "does it match"
    if (this.quantifierAhead()) this.fail('nested quantifier without a group');
    return { k: 'rep', item: atom, min: q.min, max: q.max };
  }

  /** A quantifier at the cursor, consumed; null when there is none. */
  private quantifier(): { min: number; max: number } | null {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      return c === '*' ? { min: 0, max: Infinity } : c === '+' ? { min: 1, max: Infinity } : { min: 0, max: 1 };
    }
    if (c !== '{') return null;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
    if (!m) return null; // a lone "{" is a literal (as in JS without the u flag)
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repetition count over ${MAX_REPEAT}`);
    if (max < min) this.fail('numbers out of order in {} quantifier');
    this.i += m[0].length;
    return { min, max };
  }

  private quantifierAhead(): boolean {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i)));
  }

  private atom(): Ast {
    const at = this.i;
    const c = this.src[this.i++]!;
    switch (c) {
      case '^':
        return { k: 'assert', a: '^' };
      case '$':
        return { k: 'assert', a: '$' };
      case '.':
        return { k: 'set', set: { ranges: LINE_END, neg: true } };
      case '[':
        return { k: 'set', set: this.cls() };
      case '(':
        return this.group(at);
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', at);
      case '{':
        if (/^\{\d+(,\d*)?\}/.test(this.src.slice(at))) this.fail('nothing to repeat', at);
        return { k: 'set', set: one(123) };
      default:
        return { k: 'set', set: one(c.charCodeAt(0)) };
    }
  }

  private group(at: number): Ast {
    if (this.src.startsWith('?:', this.i)) this.i += 2;
    else if (this.src.startsWith('?<', this.i) && !this.src.startsWith('?<=', this.i) && !this.src.startsWith('?<!', this.i)) {
      const m = /^\?<([A-Za-z_$][\w$]*)>/.exec(this.src.slice(this.i));
      if (!m) this.fail('bad group name', this.i);
      this.i += m[0].length;
    } else if (this.peek() === '?') this.fail('lookaround and other (?...) groups are not supported', at);
    const inner = this.alt();
    if (this.peek() !== ')') this.fail('unterminated group', at);
    this.i++;
    return inner;
  }

  /** After a backslash; `inClass`: \b is a backspace there, and class escapes cannot end a range. */
  private escape(inClass: boolean): Ast & { k: 'set' | 'assert' } {
    const at = this.i - 1;
    const c = this.src[this.i++];
    if (c === undefined) this.fail('\\ at end of pattern', at);
    const set = (ranges: [number, number][], neg = false) => ({ k: 'set' as const, set: { ranges, neg } });
    switch (c) {
      case 'd':
        return set(DIGIT);
      case 'D':
        return set(DIGIT, true);
      case 'w':
        return set(WORD);
      case 'W':
        return set(WORD, true);
      case 's':
        return set(SPACE);
      case 'S':
        return set(SPACE, true);
      case 'b':
        return inClass ? set([[8, 8]]) : { k: 'assert', a: 'b' };
      case 'B':
        if (inClass) this.fail('\\B inside a class', at);
        return { k: 'assert', a: 'B' };
      case 't':
        return set([[9, 9]]);
      case 'n':
        return set([[10, 10]]);
      case 'v':
        return set([[11, 11]]);
      case 'f':
        return set([[12, 12]]);
      case 'r':
        return set([[13, 13]]);
      case '0':
        if (/[0-9]/.test(this.peek() ?? '')) this.fail('octal escapes are not supported', at);
        return set([[0, 0]]);
      case 'x':
      case 'u': {
        const n = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.i, this.i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) this.fail(`\\${c} needs ${n} hex digits`, at);
        this.i += n;
        const v = parseInt(hex, 16);
        return set([[v, v]]);
      }
      default:
        if (/[1-9]/.test(c)) this.fail('backreferences are not supported', at);
        if (/[A-Za-z]/.test(c)) this.fail(`unsupported escape \\${c}`, at);
        return set([[c.charCodeAt(0), c.charCodeAt(0)]]);
    }
  }

  private cls(): CharSet {
    const at = this.i - 1;
    const out: CharSet = { ranges: [], neg: false };
    const subs: CharSet[] = [];
    if (this.peek() === '^') {
      out.neg = true;
      this.i++;
    }
    const single = (): { code: number | null; set: CharSet | null; at: number } => {
      const p = this.i;
      const c = this.src[this.i++];
      if (c === undefined) this.fail('unterminated character class', at);
      if (c !== '\\') return { code: c.charCodeAt(0), set: null, at: p };
      const e = this.escape(true);
      if (e.k !== 'set') this.fail('assertion inside a class', p);
      const r = e.set.ranges;
      return !e.set.neg && r.length === 1 && r[0]![0] === r[0]![1]
        ? { code: r[0]![0], set: null, at: p }
        : { code: null, set: e.set, at: p };
    };
    while (this.peek() !== ']') {
      if (this.peek() === undefined) this.fail('unterminated character class', at);
      const a = single();
      if (this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        const b = single();
        if (a.code === null || b.code === null) this.fail('a range cannot start or end with a class like \\d', a.at);
        if (b.code < a.code) this.fail('range out of order in character class', a.at);
        out.ranges.push([a.code, b.code]);
      } else if (a.code !== null) out.ranges.push([a.code, a.code]);
      else subs.push(a.set!);
    }
    this.i++;
    // A class holding \D, \W or \S: fold them in as explicit ranges (complements of their sets).
    for (const s of subs) out.ranges.push(...(s.neg ? complement(s.ranges) : s.ranges));
    return out;
  }
}

function complement(ranges: readonly [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

/** Parse a pattern; throws SafeRegexError (with the offset) when it is outside the subset. */
export function parseRegex(source: string): Ast {
  return new Parser(source).parse();
}
