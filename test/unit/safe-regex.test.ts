/**
 * The linear-time matcher of `like` rules: the same answers as JavaScript's RegExp on the documented
 * subset (a differential property test over generated patterns and texts), the refusals with their
 * offsets, and the catastrophic patterns finishing on 64 KiB facts.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileSafeRegex, matches, SafeRegexError, MAX_PROGRAM } from '../../server/rules/safe-regex.ts';

const test = (p: string, s: string) => matches(compileSafeRegex(p), s);

/** Patterns of the subset, built from a grammar so most of them compile in both engines. */
const atom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'c', '.', '\\d', '\\w', '\\s', '\\D', '[ab]', '[^a]', '[a-c]', '[]', '[^]', '\\.', '-', '\\n', 'x', '\\x61'),
  fc.constantFrom('^', '$', '\\b', '\\B'),
);
const pattern: fc.Arbitrary<string> = fc.letrec((tie) => ({
  pat: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('pat'), tie('pat')).map(([a, b]) => `${a}${b}`),
    fc.tuple(tie('pat'), tie('pat')).map(([a, b]) => `${a}|${b}`),
    tie('pat').map((a) => `(${a})`),
    tie('pat').map((a) => `(?:${a})`),
    fc.tuple(tie('pat'), fc.constantFrom('*', '+', '?', '{2}', '{0,2}', '{1,}', '*?', '+?')).map(([a, q]) => `(?:${a})${q}`),
  ),
})).pat as fc.Arbitrary<string>;
const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', '.', '-', ' ', '\n', '1', '_'), maxLength: 24 });

describe('safe regex: same answers as RegExp', () => {
  it('agrees with RegExp.prototype.test on generated patterns and texts', () => {
    const RUNS = 4000;
    let compared = 0;
    fc.assert(
      fc.property(pattern, text, (p, s) => {
        let re: RegExp;
        try {
          re = new RegExp(p);
        } catch {
          return; // not a JS pattern either (e.g. a quantified anchor): nothing to compare
        }
        let ours: boolean;
        try {
          ours = test(p, s);
        } catch (e) {
          // The subset may refuse what JS takes (quantified anchors), never crash.
          expect(e).toBeInstanceOf(SafeRegexError);
          return;
        }
        expect(ours, `/${p}/ on ${JSON.stringify(s)}`).toBe(re.test(s));
        compared++;
      }),
      { numRuns: RUNS },
    );
    // The early returns above compare nothing: most cases must reach the comparison (about 83 % do; the rest are
    // patterns the subset refuses), or the property proved little.
    expect(compared).toBeGreaterThanOrEqual(0.75 * RUNS);
  });

  it('handles the documented features on fixed cases', () => {
    const cases: [string, string, boolean][] = [
      ['^PowerEdge R6', 'PowerEdge R640', true],
      ['^PowerEdge R6', 'A PowerEdge R640', false],
      ['R6[0-9]{2}$', 'PowerEdge R640', true],
      ['\\bR640\\b', 'PowerEdge R640 x', true],
      ['(?<model>R6)40', 'R640', true],
      ['colou?r', 'color', true],
      ['a{2,3}', 'caab', true],
      ['a{2,3}', 'cab', false],
      ['x{', 'x{', true],
      ['[\\d-]+$', '12-3', true],
      ['\\u0041', 'A', true],
      ['a.c', 'a\nc', false],
      ['[^]', '\n', true],
      ['', 'anything', true],
    ];
    for (const [p, s, want] of cases) {
      expect(test(p, s), `/${p}/ on ${JSON.stringify(s)}`).toBe(want);
      expect(new RegExp(p).test(s)).toBe(want);
    }
  });
});

describe('safe regex: refusals name the position', () => {
  it('refuses backreferences, lookaround, unknown escapes and oversized programs', () => {
    const refused: [string, number, RegExp][] = [
      ['(a)\\1', 3, /backreference/],
      ['x(?=y)', 1, /lookaround/],
      ['x(?<!y)', 1, /lookaround/],
      ['\\p{L}', 0, /unsupported escape/],
      ['a**', 2, /nested quantifier/],
      ['(a', 0, /unterminated group/],
      ['[z-a]', 1, /out of order/],
      ['a{3,2}', 1, /out of order/],
      ['*a', 0, /nothing to repeat/],
      ['(?:(?:a{1000}){1000})', 21, /too large/],
    ];
    for (const [p, offset, msg] of refused) {
      let err: unknown;
      try {
        compileSafeRegex(p);
      } catch (e) {
        err = e;
      }
      expect(err, p).toBeInstanceOf(SafeRegexError);
      expect((err as SafeRegexError).offset, p).toBe(offset);
      expect((err as SafeRegexError).message, p).toMatch(msg);
    }
    expect(MAX_PROGRAM).toBeGreaterThan(100);
  });
});

describe('safe regex: catastrophic patterns on a 64 KiB fact', () => {
  // Each of these takes exponential time in a backtracking engine on this input.
  const evil = ['(a+)+$', '^(a|a)*$', '(a|aa)+$', '(.*a){12}$', '^(\\w+\\s?)*$'];
  const fact = 'a'.repeat(65536 - 1) + '!';
  it.each(evil)('/%s/ finishes and answers like the specification says', (p) => {
    // The outcome, not the time: the match completes and is correct (none of these can match a text ending in "!").
    expect(test(p, fact)).toBe(false);
    // ...and they still match what they should.
    expect(test(p, 'a'.repeat(64))).toBe(true);
  });
});
