/** Installer callbacks: stage reports and per-node answer files, authorised by the install token. */
import { timingSafeEqual } from 'node:crypto';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { taskContext } from '../tasks/task-service.ts';
import { ccError } from '../errors/cc-error.ts';

/** Stage names an installer may report. */
export const STAGES = ['installing', 'installed', 'failed'] as const;

function nodeWithToken(ctx: CoreContext, id: number, token: string): NodeDoc {
  const node = ctx.repo.get(id);
  const want = Buffer.from(node?.install_token ?? '');
  const got = Buffer.from(token);
  if (!node || want.length === 0 || want.length !== got.length || !timingSafeEqual(want, got))
    throw ccError('CC_ERR_FORBIDDEN', `install token does not match node ${id}; the node must boot its task script again`);
  return node;
}

/** Move a node along its install (installing -> installed), or to error on `failed`. */
export function reportStage(ctx: CoreContext, id: number, token: string, name: string, detail?: string): Promise<NodeDoc> {
  if (!(STAGES as readonly string[]).includes(name)) throw ccError('CC_ERR_BAD_REQUEST', `name must be one of ${STAGES.join(', ')}`);
  return durably(ctx, async () => {
    const node = nodeWithToken(ctx, id, token);
    const before = node.state;
    if (name === 'installing' && (node.state === 'bound' || node.state === 'installing')) node.state = 'installing';
    else if (name === 'installed' && (node.state === 'installing' || node.state === 'bound')) node.state = 'installed';
    else if (name === 'failed') {
      node.state = 'error';
      node.error_reason = detail ? `installer reported failure: ${detail}` : 'installer reported failure';
    }
    node.last_seen = ctx.now().toISOString();
    await ctx.repo.save(node);
    ctx.events.emit('node.stage', {
      node_id: id,
      mac: node.boot_mac,
      message: `Install stage ${name} (${before} -> ${node.state})`,
      data: { stage: name, from: before, to: node.state, detail },
    });
    return node;
  });
}

/** Render one answer file for a node; fetching it marks the install as started. */
export async function answerFile(ctx: CoreContext, id: number, token: string, file: string): Promise<string> {
  const node = nodeWithToken(ctx, id, token);
  const policy = node.policy ? ctx.policies.get(node.policy) : undefined;
  if (!policy) throw ccError('CC_ERR_NOT_FOUND', `node ${id} is not bound to a policy`);
  const image = policy.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
  const facts = (await ctx.store.facts.findOne({ _id: String(id) }))?.facts ?? {};
  const out = ctx.tasks.renderFor(policy.task, taskContext({ publicUrl: ctx.config.publicUrl, node, policy, image, facts }), file);
  const body = out.files[file];
  if (body === undefined)
    throw ccError(
      'CC_ERR_NOT_FOUND',
      `task ${policy.task} has no file "${file}" (it has: ${Object.keys(ctx.tasks.get(policy.task)?.templates ?? {}).join(', ') || 'none'})`,
    );
  ctx.events.emit('http.transfer', {
    node_id: id,
    mac: node.boot_mac,
    message: `Answer file ${file} served (${body.length} B)`,
    data: { file, bytes: body.length },
  });
  if (node.state === 'bound') await reportStage(ctx, id, token, 'installing', `fetched ${file}`);
  return body;
}
