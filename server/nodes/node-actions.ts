/** Operator actions on nodes besides binding: reboot/poweroff via the agent, approve, forget, edit. */
import type { BulkResult } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { forEachNode } from './bulk.ts';
import type { NodeDoc } from '../store/docs.ts';
import { forgetConflictsWith } from './conflicts.ts';
import { autoBindLocked } from '../policies/binder.ts';
import { refreshTags } from '../tags/retag.ts';

/** Queue a reboot or poweroff for the agent's next check-in. */
export function queueCommand(ctx: CoreContext, ids: number[], command: 'reboot' | 'poweroff'): Promise<BulkResult> {
  return forEachNode(ctx, ids, async (node) => {
    if (!node.agent_active) return 'no agent runs on this node (it is not in the microkernel); power-cycle it instead';
    node.pending_command = command;
    await ctx.repo.save(node);
    return null;
  });
}

/**
 * Approve nodes for automatic actions (docs/identity.md 3); an approved, registered node is offered to
 * the policies at once, as a registration would.
 */
export function approveNodes(ctx: CoreContext, ids: number[]): Promise<BulkResult> {
  return forEachNode(ctx, ids, async (node) => {
    if (node.approved) return null;
    node.approved = true;
    await ctx.repo.save(node);
    ctx.events.emit('node.approved', { node_id: node.id, mac: node.boot_mac, message: 'Approved by the operator', data: {} });
    await autoBindLocked(ctx, node);
    return null;
  });
}

/** Forget nodes: delete the record and its facts (events stay for the audit trail). */
export function forgetNodes(ctx: CoreContext, ids: number[]): Promise<BulkResult> {
  return forEachNode(ctx, ids, async (node) => {
    await ctx.repo.remove(node.id);
    await ctx.store.facts.remove({ _id: String(node.id) });
    await forgetConflictsWith(ctx, node.id);
    ctx.events.emit('node.forgotten', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Forgotten (${node.macs.join(', ')})`,
      data: { macs: node.macs },
    });
    return null;
  });
}

/** Mark agents that stopped checking in as `lost` (never deleted). Returns how many. Under the core lock: it changes states. */
export function sweepLost(ctx: CoreContext): Promise<number> {
  return ctx.lock.run(async () => {
    const s = ctx.settings.get();
    const limit = ctx.now().getTime() - s.lost_after_intervals * (s.checkin_interval_s + s.checkin_skew_s) * 1000;
    const lost: NodeDoc[] = [];
    for (const d of ctx.repo.all())
      if (d.agent_active && d.state !== 'lost' && d.last_seen && Date.parse(d.last_seen) < limit) lost.push(d);
    for (const d of lost) {
      d.state_before_lost = d.state;
      d.state = 'lost';
      await refreshTags(ctx, d);
      await ctx.repo.save(d);
      ctx.events.emit('node.lost', {
        node_id: d.id,
        mac: d.boot_mac,
        message: `No check-in since ${d.last_seen}`,
        data: { last_seen: d.last_seen },
      });
    }
    return lost.length;
  });
}
