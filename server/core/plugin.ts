/** The lifecycle every part of the core follows, so each runs alone in a test. */

/** A named service with start/stop; `state` is shown in the UI. */
export interface Plugin {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Minimal logger passed down (pino-compatible subset). */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}
