/**
 * Re-evaluating a node's tags: at registration (new facts), and when the node record changes in a way
 * rules can read (state, metadata, MACs: docs/rules.md "Node operators"). The caller saves the node.
 */
import type { Facts } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';

/** Re-evaluate a node's tags against `facts` and its record; emits an event when they changed. */
export function retag(ctx: CoreContext, node: NodeDoc, facts: Facts): boolean {
  const tags = ctx.tags.evaluate(facts, node);
  if (tags.join('\0') === node.tags.join('\0')) return false;
  const added = tags.filter((t) => !node.tags.includes(t));
  const removed = node.tags.filter((t) => !tags.includes(t));
  node.tags = tags;
  ctx.events.emit('node.tags_changed', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Tags now: ${tags.join(', ') || '(none)'}`,
    data: { added, removed },
  });
  return true;
}

/**
 * After the record changed (state, metadata, MACs): re-evaluate a registered node's tags when some tag
 * reads the record. Cheap otherwise (no facts are read). Returns true when the tags changed.
 */
export async function refreshTags(ctx: CoreContext, node: NodeDoc): Promise<boolean> {
  if (!node.registered_at || !ctx.tags.readsNode()) return false;
  const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
  return retag(ctx, node, facts);
}
