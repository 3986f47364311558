/** The dry-run: which nodes a rule, a tag set or a policy would match, and for each other node why not. */
import type { DryRunMatch, DryRunRequest } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { policyRefusal } from '../policies/binder.ts';
import { factsByNode } from './tag-actions.ts';
import { ccError } from '../errors/cc-error.ts';

/** Evaluate a dry-run request over every node (or the one it names). */
export async function dryRun(ctx: CoreContext, b: DryRunRequest): Promise<DryRunMatch[]> {
  if (!b.rule && !b.tags && !b.policy) throw ccError('CC_ERR_BAD_REQUEST', 'give one of rule, tags or policy');
  if (b.rule) ctx.tags.check(null, b.rule);
  const p = b.policy ? ctx.policies.get(b.policy) : undefined;
  if (b.policy && !p) throw ccError('CC_ERR_NOT_FOUND', `policy "${b.policy}"`);
  const facts = await factsByNode(ctx);
  const nodes = b.node_id ? [ctx.repo.get(b.node_id)].filter((d) => d !== undefined) : ctx.repo.all().sort((x, y) => x.id - y.id);
  if (b.node_id && nodes.length === 0) throw ccError('CC_ERR_NOT_FOUND', `node ${b.node_id}`);
  return nodes.map((d) => {
    let reasons: string[] = [];
    if (b.rule) reasons = ctx.tags.explain(b.rule, facts.get(d.id) ?? {}, d).reasons;
    else if (b.tags) reasons = b.tags.filter((t) => !d.tags.includes(t)).map((t) => `node lacks tag "${t}"`);
    else if (p) {
      reasons = policyRefusal(ctx, p, d);
      if (d.policy && d.policy !== p.name) reasons.push(`already bound to policy "${d.policy}"`);
      if (!d.registered_at) reasons.push('not registered yet (auto-binding needs facts; bind explicitly to skip discovery)');
    }
    if (!facts.has(d.id) && b.rule) reasons.push('no facts yet (the node has not registered)');
    return { node_id: d.id, hostname: d.hostname, matched: reasons.length === 0, reasons };
  });
}
