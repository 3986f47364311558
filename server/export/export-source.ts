/** Gather what the export renderers read from the running appliance (the only impure part of server/export/). */
import type { CoreContext } from '../core/context.ts';
import { viewOf } from '../nodes/node-query.ts';
import type { ExportInput } from './export-input.ts';

/** Every node (or those in `only`) by id, with its facts and inventory, and the provisioning prefix. */
export async function exportInput(ctx: CoreContext, only: ReadonlySet<number> | null = null): Promise<ExportInput> {
  const facts = new Map((await ctx.store.facts.find()).map((f) => [f._id, f]));
  const nodes = ctx.repo
    .all()
    .filter((d) => !only || only.has(d.id))
    .sort((a, b) => a.id - b.id)
    .map((d) => ({
      node: viewOf(ctx, d),
      facts: facts.get(String(d.id))?.facts ?? {},
      inventory: facts.get(String(d.id))?.inventory ?? null,
    }));
  return { nodes, prefix: ctx.config.address?.prefix ?? null, exportedAt: ctx.now().toISOString() };
}
