/** Rule editor text -> rule: JSON syntax errors reported with line and column. Pure. */

/** Parsed rule or a message saying where the text is wrong. */
export type RuleParse = { ok: true; rule: unknown[] } | { ok: false; message: string };

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/** Parse the editor's text; the server checks operators and arity (CC_ERR_RULE_INVALID). */
export function parseRuleText(text: string): RuleParse {
  if (text.trim() === '') return { ok: false, message: 'Write a rule, e.g. ["=", ["fact", "manufacturer"], "Dell Inc."]' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    return { ok: false, message: `Not valid JSON${pos ? ` at ${lineCol(text, Number(pos[1]))}` : ''}: ${msg}` };
  }
  if (!Array.isArray(v) || v.length === 0) return { ok: false, message: 'rule: a rule is an expression list like ["=", a, b]' };
  return { ok: true, rule: v };
}

/** Pretty text for a stored rule: short rules on one line, long ones indented. */
export function ruleToText(rule: unknown): string {
  const one = JSON.stringify(rule);
  return one.length <= 80 ? one : JSON.stringify(rule, null, 2);
}
