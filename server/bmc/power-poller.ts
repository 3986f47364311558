/**
 * The calm power poll: every `power_poll_interval_s`, read the power state of every node with a BMC
 * (`status`, one attempt, no per-read events), store it on the node, and emit `bmc.power_changed` only
 * when a node's state differs from what was stored (a BMC that stops answering becomes `unknown` once).
 * Rounds never overlap; a long round just delays the next one.
 */
import type { PowerState } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { Plugin } from '../core/plugin.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BmcRecord } from './bmc-record.ts';
import { bmcTimings } from './bmc-timings.ts';
import { runBulkPower } from './bulk-power.ts';
import { nodePowerJob, recordPower, type NodeDriverDeps } from './node-driver.ts';

/** While polling is off (interval 0), how often the setting is looked at again. */
const IDLE_CHECK_MS = 10_000;

/** The poller, with `pollOnce` for tests and for an operator-triggered refresh. */
export interface PowerPoller extends Plugin {
  /** Run one round now; resolves with how many nodes were read. */
  pollOnce(): Promise<number>;
}

/** Build the poller over the core. */
export function createPowerPoller(ctx: CoreContext, deps: NodeDriverDeps = {}): PowerPoller {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = true;

  const changed = (node: NodeDoc, state: PowerState, why: string | undefined) => {
    const { changed: differs, before } = recordPower(ctx, node.id, state);
    if (!differs) return;
    ctx.events.emit('bmc.power_changed', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Power ${before ?? 'not known'} -> ${state}${why ? ` (${why})` : ''}`,
      data: { before, power: state, ...(why ? { reason: why } : {}) },
    });
  };

  const round = async (): Promise<number> => {
    const s = ctx.settings.get();
    const nodes = ctx.repo.all().filter((d): d is NodeDoc & { bmc: BmcRecord } => Boolean(d.bmc));
    if (nodes.length === 0) return 0;
    const timings = bmcTimings(s, 0);
    const results = await runBulkPower(
      nodes.map((n) => nodePowerJob(ctx, n, timings, undefined, deps)),
      // No stagger (a read starts nothing) and no event sink: only changes are worth an event.
      { action: 'status', concurrency: Math.max(1, s.bmc_concurrency), staggerMs: 0 },
    );
    results.forEach((r, i) => {
      const node = ctx.repo.get(r.node_id);
      // Forgotten, or its BMC removed or replaced while the round ran: what was read is about another BMC.
      if (!node?.bmc || node.bmc !== nodes[i]!.bmc) return;
      if (r.ok && r.power) changed(node, r.power, undefined);
      else changed(node, 'unknown', r.reason);
    });
    return results.length;
  };

  const pollOnce = (): Promise<number> => {
    running ??= round().finally(() => (running = null));
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    const every = ctx.settings.get().power_poll_interval_s;
    timer = setTimeout(
      () => {
        timer = null;
        if (every === 0) return schedule();
        void pollOnce()
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'power poll failed'))
          .finally(schedule);
      },
      every === 0 ? IDLE_CHECK_MS : every * 1000,
    );
    timer.unref();
  };

  return {
    name: 'power-poller',
    pollOnce,
    async start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}
