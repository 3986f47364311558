/** Shared helpers for the "Key: value" text most hardware tools print. Pure. */

/** Largest tool output a parser looks at; bigger input is truncated, never trusted to be small. */
export const MAX_TOOL_OUTPUT_BYTES = 8 * 1024 * 1024;

/** Split text into lines, bounded by MAX_TOOL_OUTPUT_BYTES. */
export function lines(text: string): string[] {
  const t = text.length > MAX_TOOL_OUTPUT_BYTES ? text.slice(0, MAX_TOOL_OUTPUT_BYTES) : text;
  return t.split(/\r?\n/);
}

/** Split "Key<sep>value" once; null when there is no separator. */
export function splitPair(line: string, sep = ':'): [string, string] | null {
  const i = line.indexOf(sep);
  if (i <= 0) return null;
  return [line.slice(0, i).trim(), line.slice(i + sep.length).trim()];
}

/** Parse flat "Key : value" lines into a map (first occurrence wins; continuation lines are ignored). */
export function colonPairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of lines(text)) {
    if (/^\s*:/.test(raw)) continue; // ipmitool continuation rows (" : User : MD5")
    const p = splitPair(raw);
    if (!p || p[0] === '') continue;
    if (!out.has(p[0])) out.set(p[0], p[1]);
  }
  return out;
}

/** Values firmware uses for "nothing here"; treat as absent. */
const PLACEHOLDERS = new Set([
  '',
  'not specified',
  'not provided',
  'not present',
  'unknown',
  'to be filled by o.e.m.',
  'default string',
  'none',
  'n/a',
  '--',
  'not available',
  'system serial number',
  'system product name',
  'system manufacturer',
  '0123456789',
]);

/** A trimmed value, or undefined when it is empty or a firmware placeholder. */
export function clean(v: string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  const t = v.trim();
  return PLACEHOLDERS.has(t.toLowerCase()) ? undefined : t;
}

/** Parse an integer, undefined when not a finite number. */
export function int(v: string | number | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** Parse a float, undefined when not a finite number. */
export function num(v: string | number | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number.parseFloat(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Lower-case aa:bb:cc:dd:ee:ff for a 6-byte MAC in any common spelling; undefined otherwise. */
export function normMac(v: string | null | undefined): string | undefined {
  if (!v) return undefined;
  const hex = v
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || !/^[0-9a-f:.\-\s]+$/i.test(v.trim())) return undefined;
  return hex.match(/../g)!.join(':');
}

/** True for the MACs that identify nothing (all zero, broadcast). */
export function isNullMac(mac: string): boolean {
  return mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff';
}

/** Parse JSON without throwing; undefined on failure. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** True when the text looks like JSON (first non-blank char is { or [). */
export function looksJson(text: string): boolean {
  return /^\s*[[{]/.test(text);
}

/** A record view of an unknown value (empty when it is not a plain object). */
export function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A string view of an unknown value (undefined for non-strings/numbers). */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** An array view of an unknown value. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
