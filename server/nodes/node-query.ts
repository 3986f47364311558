/** Reading nodes for the admin API: a filtered page, one node, its facts, its events. */
import type { CcEvent, Node, NodeFacts, NodeList, NodeListQuery } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { nodeView } from './view.ts';
import { viewContext } from './view-context.ts';
import { manifestGroup } from '../manifest/status.ts';
import { ccError } from '../errors/cc-error.ts';

/** Page size when the caller names none. */
const DEFAULT_PAGE = 1000;

/** The node record, or 404. */
export function requireNode(ctx: CoreContext, id: number): NodeDoc {
  const d = ctx.repo.get(id);
  if (!d) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
  return d;
}

/** The API view of a node record under the current settings. */
export function viewOf(ctx: CoreContext, d: NodeDoc): Node {
  return nodeView(d, viewContext(ctx));
}

/** One page of nodes by id, filtered by state and by a case-insensitive search over names, MACs and tags. */
export function listNodes(ctx: CoreContext, q: NodeListQuery = {}): NodeList {
  const vc = viewContext(ctx);
  let all = ctx.repo.all().sort((a, b) => a.id - b.id);
  if (q.state) all = all.filter((d) => d.state === q.state);
  if (q.manifest) all = all.filter((d) => manifestGroup(d) === q.manifest);
  if (q.outdated_microkernel !== undefined) all = all.filter((d) => nodeView(d, vc).microkernel_outdated === q.outdated_microkernel);
  if (q.q) {
    const s = q.q.toLowerCase();
    all = all.filter((d) =>
      [d.hostname, d.serial, d.manufacturer, d.product, d.ip, ...d.macs, ...d.tags].some((v) => v?.toLowerCase().includes(s)),
    );
  }
  const off = q.offset ?? 0;
  return { nodes: all.slice(off, off + (q.limit ?? DEFAULT_PAGE)).map((d) => nodeView(d, vc)), total: all.length };
}

/** A node's flat facts and inventory (empty before it registered). */
export async function nodeFacts(ctx: CoreContext, id: number): Promise<NodeFacts> {
  requireNode(ctx, id);
  const f = await ctx.store.facts.findOne({ _id: String(id) });
  return { facts: f?.facts ?? {}, inventory: f?.inventory ?? null };
}

/** A node's events, newest first. */
export function nodeEvents(ctx: CoreContext, id: number, limit = 500): Promise<CcEvent[]> {
  return ctx.events.query({ node_id: id, limit });
}
