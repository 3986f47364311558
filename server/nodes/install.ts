/**
 * Installer callbacks: stage reports and per-node answer files, authorised by the install token
 * (docs/identity.md 2: hashed, expiring, from the node's own address in full-DHCP mode).
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { taskContext } from '../tasks/task-service.ts';
import { checkInstallToken, clearInstall } from './tokens.ts';
import { ccError } from '../errors/cc-error.ts';
import { deployCalledBack } from '../deploy/task-flow.ts';
import { refreshTags } from '../tags/retag.ts';
import { taskNetwork } from './static-ip.ts';

/** Stage names an installer may report. */
export const STAGES = ['installing', 'installed', 'failed'] as const;

/**
 * Move a node along its install (installing -> installed), or to error on `failed`. Reaching `installed`
 * or `error` ends the install: its token stops working. `detail` is node text: it goes to the UI and
 * events only (docs/identity.md 4).
 */
export function reportStage(ctx: CoreContext, id: number, token: string, name: string, ip: string, detail?: string): Promise<NodeDoc> {
  if (!(STAGES as readonly string[]).includes(name)) throw ccError('CC_ERR_BAD_REQUEST', `name must be one of ${STAGES.join(', ')}`);
  return durably(ctx, async () => {
    const node = await checkInstallToken(ctx, ctx.repo.get(id), id, token, ip);
    const before = node.state;
    if (name === 'installing' && (node.state === 'bound' || node.state === 'installing')) node.state = 'installing';
    else if (name === 'installed' && (node.state === 'installing' || node.state === 'bound')) node.state = 'installed';
    else if (name === 'failed') {
      node.state = 'error';
      node.error_reason = detail ? `installer reported failure: ${detail}` : 'installer reported failure';
    }
    if (node.state === 'installed') deployCalledBack(ctx, node);
    if (node.state === 'installed' || node.state === 'error') clearInstall(node);
    node.last_seen = ctx.now().toISOString();
    if (node.state !== before) await refreshTags(ctx, node);
    await ctx.repo.save(node);
    const event = {
      node_id: id,
      mac: node.boot_mac,
      message: `Install stage ${name} (${before} -> ${node.state})`,
      data: { stage: name, from: before, to: node.state, detail },
    };
    // A move is always recorded (hooks run on installed and failed; the token ends there). A report that moves
    // nothing (`installing` again, with new detail) is the installer's to repeat: within the node's budget.
    if (node.state !== before) ctx.events.emit('node.stage', event);
    else ctx.guard.nodeEvent(id, 'node.stage', event);
    return node;
  });
}

/** Render one answer file for a node; fetching it marks the install as started. */
export async function answerFile(ctx: CoreContext, id: number, token: string, file: string, ip: string): Promise<string> {
  const node = await checkInstallToken(ctx, ctx.repo.get(id), id, token, ip);
  const policy = node.policy ? ctx.policies.get(node.policy) : undefined;
  if (!policy) throw ccError('CC_ERR_NOT_FOUND', `node ${id} is not bound to a policy`);
  const image = policy.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
  const facts = (await ctx.store.facts.findOne({ _id: String(id) }))?.facts ?? {};
  const network = taskNetwork(ctx, node);
  const out = ctx.tasks.renderFor(
    policy.task,
    taskContext({ publicUrl: ctx.config.publicUrl, node, policy, image, facts, token, network }),
    file,
  );
  // An own property only: `constructor`, `toString` or `__proto__` in the URL must not find Object.prototype's.
  const body = Object.hasOwn(out.files, file) ? out.files[file] : undefined;
  if (typeof body !== 'string')
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
  if (node.state === 'bound') await reportStage(ctx, id, token, 'installing', ip, `fetched ${file}`);
  return body;
}
