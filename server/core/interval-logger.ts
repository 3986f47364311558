/**
 * A logger for services the rack drives (DHCP, TFTP): their warnings and errors are caused by datagrams, one from
 * any address each, so a line per datagram would let the rack flood the appliance's log (and the journal or terminal
 * behind it) at packet rate: "dhcp: pool exhausted" for every forged DISCOVER, "TFTP transfer setup failed" for every
 * request that trips it. Each warning or error message is written at most once per interval, with the count of the
 * ones not written since (`unlogged`); debug and info lines, which the services write at start-up, go through.
 * Events stay the record of what the rack did (with their own budgets); the log is for the operator's attention.
 */
import type { Logger } from './plugin.ts';

/** The interval of a rack-driven service's repeated warning (as `dhcp.malformed`'s event: MALFORMED_EVENT_INTERVAL_MS). */
export const RACK_LOG_INTERVAL_MS = 10_000;

/** Distinct messages tracked at once; the services write a few dozen fixed ones, so this is a bound, not a budget. */
const MESSAGES_MAX = 256;

/** `log` with each warning and error message written at most once per `intervalMs`. */
export function intervalLogger(log: Logger, intervalMs = RACK_LOG_INTERVAL_MS, now: () => number = Date.now): Logger {
  const last = new Map<string, { at: number; unlogged: number }>();
  const limited =
    (level: 'warn' | 'error') =>
    (obj: unknown, msg?: string): void => {
      const key = `${level} ${msg ?? (typeof obj === 'string' ? obj : '')}`;
      const t = now();
      const seen = last.get(key);
      if (seen && t - seen.at < intervalMs) {
        seen.unlogged++;
        return;
      }
      if (!seen && last.size >= MESSAGES_MAX) last.clear();
      last.set(key, { at: t, unlogged: 0 });
      const unlogged = seen?.unlogged ?? 0;
      if (unlogged > 0 && typeof obj === 'object' && obj !== null) log[level]({ ...obj, unlogged }, msg);
      else if (unlogged > 0) log[level]({ unlogged }, `${msg ?? String(obj)}`);
      else log[level](obj, msg);
    };
  return { debug: (o, m) => log.debug(o, m), info: (o, m) => log.info(o, m), warn: limited('warn'), error: limited('error') };
}
