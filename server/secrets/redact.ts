/**
 * Keep secrets out of logs and events. `redactSecrets` copies a log object,
 * replacing the value of every field whose name says it holds a secret;
 * `redactText` cuts known secret values out of free text (a tool's stderr, an
 * error message) in case a peer echoes them; `redactingLogger` applies both to
 * everything a service logs.
 */
import type { Logger } from '../core/plugin.ts';

/** Field names whose values are never logged (matched case-insensitively anywhere in the name). */
export const SECRET_FIELD_PATTERN = /pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|credential|private_?key|api_?key|^key$/i;
/** What a secret becomes. */
export const REDACTED = '[redacted]';
/** Objects nested deeper than this are cut (a log line is not a dump). */
const MAX_DEPTH = 8;

/** A deep copy of `value` with secret fields replaced by `[redacted]`; cycles and deep nesting are cut, never followed. */
export function redactSecrets(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[cycle]';
    if (depth >= MAX_DEPTH) return '[nested]';
    seen.add(v);
    try {
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.byteLength} bytes]`;
      if (v instanceof Error) {
        const code = (v as { code?: unknown }).code;
        return { name: v.name, message: v.message, ...(code !== undefined ? { code } : {}) };
      }
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (v instanceof Map) return walk(Object.fromEntries(v), depth);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = SECRET_FIELD_PATTERN.test(k) ? REDACTED : walk(x, depth + 1);
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}

/** `text` with every occurrence of each known secret (non-empty) replaced by `[redacted]`. */
export function redactText(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
}

/** A logger that redacts every object it is given before passing it on. */
export function redactingLogger(log: Logger): Logger {
  const wrap =
    (f: (obj: unknown, msg?: string) => void) =>
    (obj: unknown, msg?: string): void =>
      f(redactSecrets(obj), msg);
  return {
    debug: wrap(log.debug.bind(log)),
    info: wrap(log.info.bind(log)),
    warn: wrap(log.warn.bind(log)),
    error: wrap(log.error.bind(log)),
  };
}
