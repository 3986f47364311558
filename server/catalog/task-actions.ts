/** What the admin API does with tasks beyond the store: one by name, delete (refused while a policy uses it), preview for a node. */
import type { Task, TaskInput, TaskPreview, TaskPreviewRequest } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { taskContext } from '../tasks/task-service.ts';
import { taskNetwork } from '../nodes/static-ip.ts';
import { DEFAULT_HOSTNAME_TEMPLATE } from '../policies/policy-service.ts';
import { requireNode } from '../nodes/node-query.ts';
import { ccError } from '../errors/cc-error.ts';
import { REDACTED } from '../secrets/redact.ts';

/** Token shown in previews where a node's real install token would go (a preview mints nothing). */
const PREVIEW_TOKEN = 'preview-token';

/**
 * The policy as a preview renders it: a secret value (the root password's crypt hash, which the API never
 * returns and the support bundle ships only on request) becomes `[redacted]`, so `{{#if}}` still takes the
 * branch the node gets while the value itself is served to the node alone (docs/tasks.md, "Preview").
 */
function previewPolicy(policy: PolicyDoc): PolicyDoc {
  return { ...policy, root_password_hash: policy.root_password_hash ? REDACTED : null };
}

/** A task by name, or 404. */
export function requireTask(ctx: CoreContext, name: string): Task {
  const t = ctx.tasks.get(name);
  if (!t) throw ccError('CC_ERR_NOT_FOUND', `task "${name}"`);
  return t;
}

/** Create (`mustBeNew`) or replace a task. */
export function saveTask(ctx: CoreContext, input: TaskInput, mustBeNew: boolean, urlName?: string): Promise<Task> {
  if (urlName !== undefined && input.name !== urlName) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
  return ctx.tasks.put(input, mustBeNew);
}

/** Delete a task no policy uses. */
export async function deleteTask(ctx: CoreContext, name: string): Promise<void> {
  const users = ctx.policies.list().filter((p) => p.task === name);
  if (users.length) throw ccError('CC_ERR_IN_USE', `task "${name}" is used by policy ${users.map((p) => p.name).join(', ')}`);
  await ctx.tasks.remove(name);
}

/** Render a task for a node as /boot would: with the node's policy, the one named, or a default one. */
export async function previewTask(ctx: CoreContext, task: string, req: TaskPreviewRequest): Promise<TaskPreview> {
  const node = requireNode(ctx, req.node_id);
  const pname = req.policy ?? node.policy;
  const policy: PolicyDoc = (pname ? ctx.policies.get(pname) : undefined) ?? {
    _id: '(preview)',
    name: '(preview)',
    priority: 0,
    enabled: true,
    tags: [],
    max_count: null,
    task,
    image: null,
    hostname_template: DEFAULT_HOSTNAME_TEMPLATE,
    root_password_hash: null,
    ssh_keys: [],
    metadata: {},
  };
  const image = policy.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
  const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
  const previewNode = { ...node, hostname: node.hostname ?? `node${node.id}` };
  return ctx.tasks.renderFor(
    task,
    taskContext({
      publicUrl: ctx.config.publicUrl,
      node: previewNode,
      policy: previewPolicy(policy),
      image,
      facts,
      token: PREVIEW_TOKEN,
      network: taskNetwork(ctx, node),
    }),
  );
}
