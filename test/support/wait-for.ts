/**
 * Polling for a condition in tests that wait on a process or a network: the one poller module of the test kit.
 * `waitFor` is the quick one; `pollUntil` is for QEMU e2e suites (progress lines, diagnostics, stop when a guest dies).
 */

/** Wait until `fn` returns a value (not undefined/false), polling; throws after `ms` with `what`. */
export async function waitFor<T>(what: string, ms: number, fn: () => T | Promise<T>): Promise<Exclude<T, false | undefined | null>> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as Exclude<T, false | undefined | null>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** How `pollUntil` reports and when it gives up early. */
export interface PollOptions {
  /** Appended to a timeout or abort error: guest consoles, the appliance log. */
  why: () => string;
  /** Where progress lines go ("still waiting for ... (N s)"); none when absent. */
  log?: (line: string) => void;
  /** Checked after each poll that found nothing: a reason to stop at once (e.g. "QEMU exited"), or undefined to go on. */
  abort?: () => string | undefined;
  /** Pause between polls (default 1 s). */
  everyMs?: number;
  /** Pause between progress lines (default 15 s). */
  reportMs?: number;
}

/** Poll `fn` until it returns a value; throw with `why()` after `timeoutMs` or as soon as `abort` names a reason. */
export async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const start = Date.now();
  let lastReport = start;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    // A dead guest cannot bring the awaited state: say so now rather than at the timeout.
    const reason = o.abort?.();
    if (reason !== undefined) throw new Error(`${reason} while waiting for ${what}\n${o.why()}`);
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${o.why()}`);
    if (o.log && Date.now() - lastReport > (o.reportMs ?? 15_000)) {
      lastReport = Date.now();
      o.log(`still waiting for ${what} (${Math.round((Date.now() - start) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 1000));
  }
}
