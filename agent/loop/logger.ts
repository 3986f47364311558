/** The agent's logger: JSON lines on stderr, level changeable at run time (pushed config). */

/** Log levels the appliance may push. */
export type AgentLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Same shape as the core's Logger (server/core/plugin.ts), so the lab can pass its own. */
export interface AgentLogger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  setLevel?(level: AgentLogLevel): void;
}

const RANK: Record<AgentLogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing one JSON object per line to the given stream (stderr by default). */
export function createStderrLogger(
  level: AgentLogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): AgentLogger {
  let min = RANK[level];
  const emit = (lvl: AgentLogLevel, obj: unknown, msg?: string): void => {
    if (RANK[lvl] < min) return;
    const base =
      obj !== null && typeof obj === 'object' && !(obj instanceof Error)
        ? (obj as Record<string, unknown>)
        : { detail: obj instanceof Error ? obj.message : obj };
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base })}\n`);
  };
  return {
    debug: (o, m) => emit('debug', o, m),
    info: (o, m) => emit('info', o, m),
    warn: (o, m) => emit('warn', o, m),
    error: (o, m) => emit('error', o, m),
    setLevel: (l) => {
      min = RANK[l];
    },
  };
}

/** A logger that drops everything (simulated nodes by the hundred). */
export const silentLogger: AgentLogger = { debug() {}, info() {}, warn() {}, error() {} };
