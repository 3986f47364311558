/**
 * Run a state change under the core lock, then make it durable outside the
 * lock. Decisions (who holds which identifier, which policy binds) and the
 * in-memory indexes change under the lock; the store writes that record them
 * may be handed to `defer`: they are queued in order under the lock (nedb runs
 * one operation at a time per file) but awaited after it is released, so the
 * next caller decides while earlier writes land. The fsync that follows covers
 * them, and concurrent callers share it (group commit) instead of queueing one
 * fsync each behind the lock. The caller answers only after this resolves.
 */
import type { CoreContext } from './context.ts';

/** Hands a store write started under the lock to `durably`, which awaits it (and fsyncs) after the lock. */
export type Defer = (write: Promise<unknown>) => void;

/** Locked change + shared fsync of the node and facts files. */
export async function durably<T>(ctx: CoreContext, fn: (defer: Defer) => Promise<T>): Promise<T> {
  const writes: Promise<unknown>[] = [];
  const defer: Defer = (w) => {
    // Marked handled now (the lock may run on for a while); the rejection still reaches the await below.
    w.catch(() => undefined);
    writes.push(w);
  };
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await ctx.lock.run(() => fn(defer)) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  // Even when fn threw after deferring, what it wrote is waited for: nothing is left in flight unobserved.
  const failed = (await Promise.allSettled(writes)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!outcome.ok) throw outcome.error;
  if (failed) throw failed.reason;
  await Promise.all([ctx.store.nodes.fsync.sync(), ctx.store.facts.fsync.sync()]);
  return outcome.value;
}
