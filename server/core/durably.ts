/**
 * Run a state change under the core lock, then make it durable outside the
 * lock. Appends happen in order under the lock; the fsync that follows covers
 * them, and concurrent callers share it (group commit) instead of queueing one
 * fsync each behind the lock. The caller answers only after this resolves.
 */
import type { CoreContext } from './context.ts';

/** Locked change + shared fsync of the node and facts files. */
export async function durably<T>(ctx: CoreContext, fn: () => Promise<T>): Promise<T> {
  const r = await ctx.lock.run(fn);
  await Promise.all([ctx.store.nodes.fsync.sync(), ctx.store.facts.fsync.sync()]);
  return r;
}
