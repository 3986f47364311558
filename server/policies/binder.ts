/**
 * Binding nodes to policies: automatic (first enabled policy in priority order
 * whose tags the node has and that has a free slot) and explicit (one click).
 * Every decision runs under the core lock, so concurrent registrations cannot
 * push a policy past max_count. Automatic binding needs a policy with tags and,
 * when approval is required, an approved node (docs/identity.md 3), and complete facts (register-first).
 */
import type { BulkResult } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc, PolicyDoc } from '../store/docs.ts';
import { renderHostname } from './policy-service.ts';
import { forEachNode } from '../nodes/bulk.ts';
import { clearInstall } from '../nodes/tokens.ts';
import { refreshTags } from '../tags/retag.ts';
import { isUnclaimed } from '../nodes/operator-fields.ts';
import { ccError } from '../errors/cc-error.ts';
// An erase starts only from an explicit bind whose confirm_count equals the number of nodes.
import { isDestructiveTask } from '../../contract/destructive-tasks.ts';

/** Nodes currently bound to a policy. */
export function boundCount(ctx: CoreContext, policy: string): number {
  let n = 0;
  for (const d of ctx.repo.all()) if (d.policy === policy) n++;
  return n;
}

/** Why a policy would not take a node automatically (empty = it would). */
export function policyRefusal(ctx: CoreContext, p: PolicyDoc, node: NodeDoc, counts?: Map<string, number>): string[] {
  const reasons: string[] = [];
  if (!p.enabled) reasons.push(`policy "${p.name}" is disabled`);
  // A tag-less policy matches every node, a forged one too: it binds only by hand.
  if (p.tags.length === 0) reasons.push(`policy "${p.name}" has no tags, so it binds only by hand`);
  if (ctx.settings.get().approval_required && !node.approved) reasons.push('the node awaits approval (approval_required is on)');
  // Register-first: a rule never matches on the fast half of the facts (a tag on lshw or BMC facts would be missing).
  if (node.facts_complete === false) reasons.push('the agent has sent only its fast facts; the rest follow within seconds');
  const missing = p.tags.filter((t) => !node.tags.includes(t));
  if (missing.length) reasons.push(`node lacks tag(s) ${missing.map((t) => `"${t}"`).join(', ')}`);
  const used = counts?.get(p.name) ?? boundCount(ctx, p.name);
  if (p.max_count !== null && used >= p.max_count && node.policy !== p.name)
    reasons.push(`policy "${p.name}" is full (${used}/${p.max_count})`);
  if (!ctx.tasks.get(p.task)) reasons.push(`task "${p.task}" does not exist`);
  if (isDestructiveTask(p.task)) reasons.push(`task "${p.task}" destroys data, so it binds only by hand with the node count confirmed`);
  return reasons;
}

/** Refuse an erase bind unless the operator typed the number of nodes it erases. */
export function checkEraseConfirmation(task: string, ids: readonly number[], confirmCount: number | undefined): void {
  if (!isDestructiveTask(task)) return;
  const n = new Set(ids).size;
  if (confirmCount === undefined)
    throw ccError('CC_ERR_ERASE_CONFIRM', `binding ${n} node(s) to a ${task} policy needs confirm_count: ${n}`);
  if (confirmCount !== n)
    throw ccError('CC_ERR_ERASE_CONFIRM', `confirm_count is ${confirmCount} but ${n} node(s) are selected; nothing was bound`);
}

/**
 * Why the policy a node's manifest row names would not take it automatically (empty = it would). The row
 * is the operator's word for this machine, so no tags are needed; the rest holds as for tag policies, plus
 * identity: a node with conflicts or manifest differences waits for the operator (docs/manifest.md).
 */
export function manifestRefusal(ctx: CoreContext, name: string, node: NodeDoc, counts?: Map<string, number>): string[] {
  const p = ctx.policies.get(name);
  if (!p) return [`the manifest names policy "${name}", which does not exist`];
  const reasons: string[] = [];
  if (!p.enabled) reasons.push(`policy "${p.name}" is disabled`);
  if (ctx.settings.get().approval_required && !node.approved) reasons.push('the node awaits approval (approval_required is on)');
  const used = counts?.get(p.name) ?? boundCount(ctx, p.name);
  if (p.max_count !== null && used >= p.max_count && node.policy !== p.name)
    reasons.push(`policy "${p.name}" is full (${used}/${p.max_count})`);
  if (!ctx.tasks.get(p.task)) reasons.push(`task "${p.task}" does not exist`);
  if (isDestructiveTask(p.task)) reasons.push(`task "${p.task}" destroys data, so it binds only by hand with the node count confirmed`);
  if ((node.conflicts ?? []).length > 0) reasons.push('the node has identity conflicts: merge or keep apart first');
  if ((node.manifest?.mismatch ?? []).length > 0)
    reasons.push(
      node.manifest_claim_held
        ? 'the machine matched its manifest row by serial or UUID alone, which anyone on the rack can copy: accept it on the node page first'
        : 'the machine reported other identifiers than its manifest row: accept them first',
    );
  return reasons;
}

async function applyBinding(ctx: CoreContext, node: NodeDoc, p: PolicyDoc, explicit: boolean): Promise<void> {
  node.policy = p.name;
  node.bound_explicitly = explicit;
  // A hostname the operator set (node page, manifest) stays; the template names the others.
  if (!node.hostname_locked) node.hostname = renderHostname(p.hostname_template, node);
  node.state = 'bound';
  // The install token is minted when /boot renders the task, never before.
  clearInstall(node);
  node['task'] = null;
  node.reboot_sent_at = null;
  // Binding by hand is the operator's approval (docs/identity.md 3).
  if (explicit) node.approved = true;
  await refreshTags(ctx, node);
  await ctx.repo.save(node);
  ctx.events.emit('node.bound', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Bound to policy ${p.name}${explicit ? ' (by operator)' : ''} as ${node.hostname}`,
    data: { policy: p.name, explicit, hostname: node.hostname },
  });
}

/**
 * Auto-bind one node if it is unbound and a policy takes it: the policy its manifest row names (and no
 * other), else the first tag policy in priority order. Call under ctx.lock.
 */
export async function autoBindLocked(ctx: CoreContext, node: NodeDoc): Promise<string | null> {
  if (node.policy || node.state !== 'registered') return null;
  const named = node.manifest?.policy;
  if (named) {
    if (manifestRefusal(ctx, named, node).length > 0) return null;
    await applyBinding(ctx, node, ctx.policies.get(named)!, false);
    return named;
  }
  for (const p of ctx.policies.list()) {
    if (policyRefusal(ctx, p, node).length === 0) {
      await applyBinding(ctx, node, p, false);
      return p.name;
    }
  }
  return null;
}

/** Try auto-binding every registered, unbound node (after a policy or tag change). */
export function autoBindAll(ctx: CoreContext): Promise<number> {
  return durably(ctx, async () => {
    let n = 0;
    for (const d of ctx.repo.all()) if (await autoBindLocked(ctx, d)) n++;
    return n;
  });
}

/** Explicitly bind a selection (overrides tag rules; max_count still holds; an erase needs `confirmCount`). */
export async function bindNodes(ctx: CoreContext, ids: number[], policyName: string, confirmCount?: number): Promise<BulkResult> {
  const p = ctx.policies.get(policyName);
  if (p) checkEraseConfirmation(p.task, ids, confirmCount);
  return forEachNode(ctx, ids, async (node) => {
    if (!p) return `no policy named "${policyName}"`;
    if (!ctx.tasks.get(p.task)) return `task "${p.task}" of the policy does not exist`;
    if ((node.state === 'installing' || node.state === 'installed') && node.policy !== p.name)
      return `node is ${node.state} with policy ${node.policy}; unbind it first`;
    if (p.max_count !== null && node.policy !== p.name && boundCount(ctx, p.name) >= p.max_count)
      throw ccError('CC_ERR_POLICY_FULL', `policy "${p.name}" has max_count ${p.max_count}`);
    await applyBinding(ctx, node, p, true);
    return null;
  });
}

/** Unbind: the node goes back to discovery on its next boot. */
export function unbindNodes(ctx: CoreContext, ids: number[]): Promise<BulkResult> {
  return forEachNode(ctx, ids, async (node) => {
    const was = node.policy;
    node.policy = null;
    node.bound_explicitly = false;
    clearInstall(node);
    node['task'] = null;
    node.state = node.registered_at ? 'registered' : isUnclaimed(node) ? 'expected' : 'discovered';
    await refreshTags(ctx, node);
    await ctx.repo.save(node);
    ctx.events.emit('node.unbound', {
      node_id: node.id,
      mac: node.boot_mac,
      message: was ? `Unbound from policy ${was}` : 'Unbound (was not bound)',
      data: { policy: was },
    });
    return null;
  });
}

/** Reinstall: keep the policy, go back to `bound` with a fresh install token; the next boot installs again. */
export function reinstallNodes(ctx: CoreContext, ids: number[]): Promise<BulkResult> {
  return forEachNode(ctx, ids, async (node) => {
    if (!node.policy) return 'node is not bound to a policy; bind it instead';
    node.state = 'bound';
    clearInstall(node);
    // Also the retry of a failed deploy, erase or burn-in: the next check-in or boot starts a new job.
    node['task'] = null;
    node.reboot_sent_at = null;
    await refreshTags(ctx, node);
    await ctx.repo.save(node);
    ctx.events.emit('node.reinstall', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Reinstall with policy ${node.policy} on next boot`,
      data: { policy: node.policy },
    });
    return null;
  });
}
