/**
 * A small leveled logger writing one line per entry to stderr. The JSON of an entry's fields may carry rack text
 * (a hook script's output, a BMC's message): it is written with every control character escaped, DEL and C1 too,
 * so the terminal `serve` runs in acts on none of it.
 */
import type { Logger } from './plugin.ts';
import { terminalJson } from './terminal-text.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
/** Log level names. */
export type LogLevel = keyof typeof LEVELS;

/** Create a logger that drops entries below `level`. */
export function consoleLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (obj: unknown, msg?: string) => {
    if (LEVELS[lvl] < LEVELS[level]) return;
    const text = typeof obj === 'string' ? obj : (msg ?? '');
    const extra =
      typeof obj === 'object' && obj !== null
        ? ' ' + terminalJson(JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v)))
        : '';
    write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${text}${extra}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
