/** Bulk node actions: one locked, durable pass over a selection with a per-node outcome. */
import type { BulkResult } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { durably } from '../core/durably.ts';
import { CcError } from '../errors/cc-error.ts';

/** What an action says about one node: a refusal reason, or nothing when it was done. */
export type NodeOutcome = string | null;

/**
 * Apply `act` to each selected node under the core lock; unknown ids are reported, never thrown. An action refuses
 * a node by returning the reason, or by throwing a CcError when the refusal has a catalog code (the other nodes go on).
 */
export function forEachNode(ctx: CoreContext, ids: number[], act: (node: NodeDoc) => Promise<NodeOutcome>): Promise<BulkResult> {
  return durably(ctx, async () => {
    const results: BulkResult['results'] = [];
    for (const id of ids) {
      const node = ctx.repo.get(id);
      if (!node) {
        results.push({ node_id: id, ok: false, reason: 'no such node' });
        continue;
      }
      let reason: NodeOutcome;
      let code: string | undefined;
      try {
        reason = await act(node);
      } catch (err) {
        if (!(err instanceof CcError)) throw err;
        [reason, code] = [err.message, err.code];
      }
      const gone = !ctx.repo.get(id);
      results.push({
        node_id: id,
        ok: reason === null,
        ...(gone ? {} : { state: node.state }),
        ...(reason ? { reason } : {}),
        ...(code ? { code } : {}),
      });
    }
    return { results };
  });
}
