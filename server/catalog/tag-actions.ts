/**
 * What the admin API does with tags: every change is an event, and every node's
 * tags are evaluated again (then auto-binding runs), so a rule change takes
 * effect on the registered nodes at once.
 */
import type { Facts, Tag, TagInput } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { retag } from '../tags/retag.ts';
import { autoBindAll } from '../policies/binder.ts';
import { ccError } from '../errors/cc-error.ts';

/** Every node's flat facts by node id. */
export async function factsByNode(ctx: CoreContext): Promise<Map<number, Facts>> {
  const m = new Map<number, Facts>();
  for (const f of await ctx.store.facts.find()) m.set(Number(f._id), f.facts);
  return m;
}

/** Re-evaluate every registered node's tags after a rule changed, then auto-bind. */
export async function retagAll(ctx: CoreContext): Promise<void> {
  const facts = await factsByNode(ctx);
  await ctx.lock.run(async () => {
    for (const d of ctx.repo.all()) if (d.registered_at && retag(ctx, d, facts.get(d.id) ?? {})) await ctx.repo.save(d);
  });
  await autoBindAll(ctx);
}

/** A tag with the number of nodes that carry it now. */
export function tagView(ctx: CoreContext, name: string): Tag {
  const t = ctx.tags.get(name);
  if (!t) throw ccError('CC_ERR_NOT_FOUND', `tag "${name}"`);
  let n = 0;
  for (const d of ctx.repo.all()) if (d.tags.includes(name)) n++;
  return ctx.tags.view(t, n);
}

/** Every tag with its node count. */
export function listTags(ctx: CoreContext): Tag[] {
  return ctx.tags.list().map((t) => tagView(ctx, t.name));
}

/** Create (`mustBeNew`) or replace a tag, then retag every node. */
export async function saveTag(ctx: CoreContext, input: TagInput, mustBeNew: boolean, urlName?: string): Promise<Tag> {
  if (urlName !== undefined && input.name !== urlName) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
  const t = await ctx.tags.put(input, mustBeNew);
  ctx.events.emit('tag.changed', { message: `Tag ${t.name} ${mustBeNew ? 'created' : 'changed'}`, data: { name: t.name, rule: t.rule } });
  await retagAll(ctx);
  return tagView(ctx, t.name);
}

/** Delete a tag (refused while a policy names it), then retag every node. */
export async function deleteTag(ctx: CoreContext, name: string): Promise<void> {
  const users = ctx.policies
    .list()
    .filter((p) => p.tags.includes(name))
    .map((p) => p.name);
  await ctx.tags.remove(name, users);
  ctx.events.emit('tag.changed', { message: `Tag ${name} deleted`, data: { name } });
  await retagAll(ctx);
}
