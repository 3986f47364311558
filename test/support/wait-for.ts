/** Polling for a condition in tests that wait on a process or a network: the one helper of the test kit. */

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
