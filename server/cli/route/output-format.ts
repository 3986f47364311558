/**
 * Human output of an admin answer: a table for lists, `key: value` lines for
 * one record. Node text is the rack's (docs/security.md): every control
 * character is shown as `?`, so a hostname carrying terminal escape sequences
 * cannot repaint or retitle the operator's terminal. `--json` keeps the text
 * as it is but escaped: JSON.stringify writes C0 controls as `\u00XX`, and
 * `terminalJson` does the same for DEL and C1, which JSON.stringify leaves raw.
 */

import { shownControls } from '../../core/terminal-text.ts';

/** Columns wider than this are cut with an ellipsis in tables (the full text is in `show` and `--json`). */
const MAX_CELL = 48;

/** One value as terminal-safe text. */
export function cellText(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = '-';
  else if (Array.isArray(v)) s = v.every((x) => typeof x === 'string' || typeof x === 'number') ? v.join(',') : JSON.stringify(v);
  else if (typeof v === 'object') s = JSON.stringify(v);
  else s = String(v);
  return shownControls(s);
}

/** A fixed-width table: a header row, then one row per record. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const t = cellText(c === 'files' && Array.isArray(r[c]) ? (r[c] as { name: string }[]).map((f) => f.name) : r[c]);
      return t.length > MAX_CELL ? t.slice(0, MAX_CELL - 1) + '…' : t;
    }),
  );
  const width = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((t, i) => t.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** One record as `key: value` lines (nested values as compact JSON). */
export function record(r: Record<string, unknown>): string {
  const w = Math.max(0, ...Object.keys(r).map((k) => k.length));
  return (
    Object.entries(r)
      .map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${cellText(v)}`)
      .join('\n') + '\n'
  );
}

/** The first array property of an answer (`{nodes: [...]}`, `{tags: [...]}`), if any. */
export function listOf(answer: unknown): Record<string, unknown>[] | null {
  if (Array.isArray(answer)) return answer as Record<string, unknown>[];
  if (!answer || typeof answer !== 'object') return null;
  const arr = Object.values(answer).find(Array.isArray);
  return (arr as Record<string, unknown>[] | undefined) ?? null;
}

/** The human rendering of a command's answer. */
export function human(answer: unknown, columns: readonly string[] | undefined): string {
  if (answer === null || answer === undefined) return 'done\n';
  const list = columns ? listOf(answer) : null;
  if (list && columns) {
    const total = (answer as { total?: unknown }).total;
    const foot = typeof total === 'number' && total > list.length ? `(${list.length} of ${total}; --limit/--offset for more)\n` : '';
    return table(list, columns) + foot;
  }
  const results = (answer as { results?: unknown }).results;
  if (Array.isArray(results)) return table(results as Record<string, unknown>[], ['node_id', 'ok', 'state', 'reason']);
  if (typeof answer === 'object') return record(answer as Record<string, unknown>);
  return cellText(answer) + '\n';
}
