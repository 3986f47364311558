/**
 * Identity conflicts (docs/identity.md 1): stored on the node that reported an identifier another
 * record holds, shown in the UI, and resolved only by the operator: merge the two records, or keep
 * them apart. Nothing a node sends reaches the operator actions here.
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { Overlap } from './identity.ts';
import { MAX_CONFLICTS_PER_NODE } from './node-doc-fields.ts';
import { mergeBmc } from './merge-bmc.ts';
import { ccError } from '../errors/cc-error.ts';

const same = (a: Overlap, b: Overlap) => a.node_id === b.node_id && a.field === b.field && a.value === b.value;

/**
 * Add overlaps to `node.conflicts` (the caller saves the node): records the operator kept apart are
 * skipped, duplicates ignored, the list capped. One `node.conflict` event per new conflict only, so a
 * node that re-registers every hour does not repeat them.
 */
export function recordConflicts(ctx: CoreContext, node: NodeDoc, overlaps: readonly Overlap[]): Overlap[] {
  const have = node.conflicts ?? [];
  const apart = new Set(node.kept_apart ?? []);
  const added: Overlap[] = [];
  for (const o of overlaps) {
    if (o.node_id === node.id || apart.has(o.node_id) || have.some((c) => same(c, o)) || added.some((c) => same(c, o))) continue;
    if (have.length + added.length >= MAX_CONFLICTS_PER_NODE) break;
    added.push({ node_id: o.node_id, field: o.field, value: o.value });
  }
  if (added.length === 0) return added;
  node.conflicts = [...have, ...added];
  for (const c of added)
    ctx.events.emit('node.conflict', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Reported ${c.field} ${c.value}, which node ${c.node_id} holds: not taken; merge the records or keep them apart`,
      data: { ...c },
    });
  return added;
}

/** After `gone` was deleted or merged: conflicts and keep-apart entries pointing at it go (or move to `now`). */
async function repoint(ctx: CoreContext, gone: number, now: number | null): Promise<void> {
  for (const d of ctx.repo.all()) {
    const hit = d.conflicts?.some((c) => c.node_id === gone) || d.kept_apart?.includes(gone);
    if (!hit) continue;
    const moved: Overlap[] = [];
    for (const c of d.conflicts ?? []) {
      if (c.node_id !== gone) moved.push(c);
      else if (now !== null && now !== d.id && !moved.some((m) => same(m, { ...c, node_id: now }))) moved.push({ ...c, node_id: now });
    }
    d.conflicts = moved;
    d.kept_apart = (d.kept_apart ?? []).filter((id) => id !== gone);
    await ctx.repo.save(d);
  }
}

/** `gone` became part of `now` (a manifest record a machine claimed): conflicts pointing at it move. Call under the core lock. */
export function repointConflicts(ctx: CoreContext, gone: number, now: number): Promise<void> {
  return repoint(ctx, gone, now);
}

/** Forgetting a record: nothing may keep pointing at it. Call under the core lock. */
export function forgetConflictsWith(ctx: CoreContext, gone: number): Promise<void> {
  return repoint(ctx, gone, null);
}

/** Fields `into` takes from `from` when it has none (the BMC, whose password is sealed per node, moves in merge-bmc.ts). */
const FILL = ['uuid', 'serial', 'manufacturer', 'product', 'arch', 'platform', 'boot_mode', 'hostname', 'ip', 'efi_loader'] as const;

/**
 * The operator says `from` and `into` are one machine: `into` takes every MAC of `from` and whatever it
 * lacks (identifiers, its BMC with the password sealed again for `into`, and the registration when only
 * `from` registered); `from` is deleted. The event says what became of `from`'s BMC.
 */
export function mergeNodes(ctx: CoreContext, intoId: number, fromId: number): Promise<NodeDoc> {
  if (intoId === fromId) throw ccError('CC_ERR_BAD_REQUEST', 'into and from are the same node');
  return durably(ctx, async () => {
    const into = ctx.repo.get(intoId);
    const from = ctx.repo.get(fromId);
    if (!into) throw ccError('CC_ERR_NOT_FOUND', `node ${intoId}`);
    if (!from) throw ccError('CC_ERR_NOT_FOUND', `node ${fromId}`);
    if (from.policy && from.policy !== into.policy)
      throw ccError('CC_ERR_CONFLICT', `node ${fromId} is bound to policy ${from.policy}; unbind it first, or merge it the other way`);
    into.macs = [...new Set([...into.macs, ...from.macs])];
    into.boot_mac = into.boot_mac ?? from.boot_mac;
    for (const k of FILL) if (into[k] === null || into[k] === undefined) (into as Record<string, unknown>)[k] = from[k];
    const fromFacts = await ctx.store.facts.findOne({ _id: String(fromId) });
    if (into.registered_at === null && from.registered_at !== null) {
      into.registered_at = from.registered_at;
      into.facts_hash = from.facts_hash;
      into.summary = from.summary;
      into.tags = from.tags;
      into.agent_active = from.agent_active;
      into.last_boot_at = from.last_boot_at;
      if (into.state === 'discovered' || into.state === 'booting-microkernel') into.state = from.state;
      if (fromFacts) await ctx.store.facts.put({ ...fromFacts, _id: String(intoId) });
    }
    // The running agent of `from` keeps working: its token now names `into` (its next register moves over).
    into.agent_token_hash = into.agent_token_hash ?? from.agent_token_hash;
    if (!into.enrol_token_hash) {
      into.enrol_token_hash = from.enrol_token_hash;
      into.enrol_token_expires_at = from.enrol_token_expires_at ?? null;
      into.enrol_token_verified = from.enrol_token_verified ?? false;
    }
    into.approved = Boolean(into.approved || from.approved);
    into.created_at = into.created_at < from.created_at ? into.created_at : from.created_at;
    if ((from.last_seen ?? '') > (into.last_seen ?? '')) into.last_seen = from.last_seen;
    const pair = new Set([intoId, fromId]);
    into.conflicts = [...(into.conflicts ?? []), ...(from.conflicts ?? [])].filter(
      (c, i, all) => !pair.has(c.node_id) && all.findIndex((x) => same(x, c)) === i,
    );
    into.kept_apart = [...new Set([...(into.kept_apart ?? []), ...(from.kept_apart ?? [])])].filter((id) => !pair.has(id));
    const bmc = mergeBmc(ctx.secrets, into, from);
    await ctx.repo.remove(fromId);
    await ctx.store.facts.remove({ _id: String(fromId) });
    await ctx.repo.save(into);
    await repoint(ctx, fromId, intoId);
    ctx.events.emit('node.merged', {
      node_id: intoId,
      mac: into.boot_mac,
      message: `Node ${fromId} merged into node ${intoId} by the operator (${from.macs.join(', ')})${bmc ? `; ${bmc}` : ''}`,
      data: { into: intoId, from: fromId, macs: from.macs },
    });
    return into;
  });
}

/** The operator says `id` and `other` are different machines: their conflicts go and are not raised again. */
export function keepApart(ctx: CoreContext, id: number, other: number): Promise<NodeDoc> {
  if (id === other) throw ccError('CC_ERR_BAD_REQUEST', 'a node cannot be kept apart from itself');
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
    const peer = ctx.repo.get(other);
    const dropped = (node.conflicts ?? []).filter((c) => c.node_id === other);
    if (dropped.length === 0 && !peer) throw ccError('CC_ERR_NOT_FOUND', `node ${id} has no conflict with node ${other}`);
    for (const [a, b] of [
      [node, other],
      [peer, id],
    ] as const) {
      if (!a) continue;
      a.conflicts = (a.conflicts ?? []).filter((c) => c.node_id !== b);
      a.kept_apart = [...new Set([...(a.kept_apart ?? []), b])];
      await ctx.repo.save(a);
    }
    ctx.events.emit('node.conflict_dismissed', {
      node_id: id,
      mac: node.boot_mac,
      message: `Kept apart from node ${other} by the operator`,
      data: { other, dismissed: dropped },
    });
    return node;
  });
}
