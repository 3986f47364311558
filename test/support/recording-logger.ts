/**
 * A logger that keeps every line it is given, as JSON of the fields followed by the message, for tests that
 * check what reached the log (a secret must not; a failure must).
 */
import type { Logger } from '../../server/core/plugin.ts';

/** The logger and the lines it recorded so far (one array, appended to). */
export function recordingLogger(): { log: Logger; logged: string[] } {
  const logged: string[] = [];
  const line = (o: unknown, m?: string) => void logged.push(JSON.stringify(o) + (m ?? ''));
  return { log: { debug: line, info: line, warn: line, error: line }, logged };
}
