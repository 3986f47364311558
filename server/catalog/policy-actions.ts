/**
 * What the admin API does with policies: create, change, delete (refused while
 * nodes are bound), reorder. Every change is an event and is followed by
 * auto-binding, so a new or widened policy takes the nodes waiting for it.
 */
import type { Policy, PolicyInput } from '../../contract/index.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { preparePolicyInput, type StoredPolicyInput } from '../policies/policy-input.ts';
import type { CoreContext } from '../core/context.ts';
import { autoBindAll, boundCount } from '../policies/binder.ts';
import { ccError } from '../errors/cc-error.ts';

/** A policy with the number of nodes bound to it now, or 404. */
export function policyView(ctx: CoreContext, name: string): Policy {
  const p = ctx.policies.get(name);
  if (!p) throw ccError('CC_ERR_NOT_FOUND', `policy "${name}"`);
  return ctx.policies.view(p, boundCount(ctx, name), ctx.tasks.get(p.task));
}

/** Every policy in priority order. */
export function listPolicies(ctx: CoreContext): Policy[] {
  return ctx.policies.list().map((p) => policyView(ctx, p.name));
}

/** The tags and the task a policy names must exist; then the input is prepared for storage (password hashed, keys and task fields checked). */
function checkRefs(ctx: CoreContext, p: PolicyInput, old: PolicyDoc | undefined, supplied: readonly string[]): StoredPolicyInput {
  const missing = (p.tags ?? []).filter((t) => !ctx.tags.get(t));
  if (missing.length) throw ccError('CC_ERR_BAD_REQUEST', `tags: no tag named ${missing.map((t) => `"${t}"`).join(', ')}`);
  const task = ctx.tasks.get(p.task);
  if (!task)
    throw ccError(
      'CC_ERR_BAD_REQUEST',
      `task: no task named "${p.task}" (have: ${ctx.tasks
        .list()
        .map((t) => t.name)
        .join(', ')})`,
    );
  return preparePolicyInput(p, old, task, supplied);
}

/** Create (`mustBeNew`) or replace a policy, then auto-bind. */
export async function savePolicy(ctx: CoreContext, input: PolicyInput, mustBeNew: boolean, urlName?: string): Promise<Policy> {
  if (urlName !== undefined) {
    if (input.name !== urlName) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
    if (!ctx.policies.get(urlName)) throw ccError('CC_ERR_NOT_FOUND', `policy "${urlName}"`);
  }
  // An image with an RPM repository of its own (image import --iso) stands in for the kickstart's repo_url.
  const image = input.image ? await ctx.store.images.findOne({ _id: input.image }) : null;
  const supplied = image?.repo?.kind === 'rpm' ? ['repo_url'] : [];
  const p = await ctx.policies.put(input, mustBeNew, (x, old) => checkRefs(ctx, x, old, supplied));
  ctx.events.emit('policy.changed', { message: `Policy ${p.name} ${mustBeNew ? 'created' : 'changed'}`, data: { name: p.name } });
  await autoBindAll(ctx);
  return policyView(ctx, p.name);
}

/** Delete a policy no node is bound to. */
export async function deletePolicy(ctx: CoreContext, name: string): Promise<void> {
  const n = boundCount(ctx, name);
  if (n > 0) throw ccError('CC_ERR_IN_USE', `${n} node(s) are bound to policy "${name}"`);
  await ctx.policies.remove(name);
  ctx.events.emit('policy.changed', { message: `Policy ${name} deleted`, data: { name } });
}

/** Set the priority order (every policy named once, highest first). */
export async function orderPolicies(ctx: CoreContext, names: string[]): Promise<Policy[]> {
  await ctx.policies.setOrder(names);
  ctx.events.emit('policy.changed', { message: `Policy order: ${names.join(', ')}`, data: { order: names } });
  return listPolicies(ctx);
}

/** Move one policy a step up or down in priority. */
export async function movePolicy(ctx: CoreContext, name: string, direction: 'up' | 'down'): Promise<Policy[]> {
  await ctx.policies.move(name, direction);
  return listPolicies(ctx);
}
