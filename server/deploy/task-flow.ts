/**
 * Microkernel tasks on the appliance side (issue 13): hand a bound node's agent its job at check-in,
 * record its progress reports, and move the node along: running -> written (the disk holds the image;
 * the node reboots and /boot answers "local disk") -> succeeded when the installed OS calls back
 * (install.ts), or failed with a reason and its fix. A failed deploy is retried with reinstall.
 */
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc, PolicyDoc } from '../store/docs.ts';
import {
  isMicrokernelTask,
  type AgentJob,
  type MicrokernelTask,
  type NodeTask,
  type TaskFailureCode,
  type TaskReport,
  type TaskReportAnswer,
} from '../../contract/agent-tasks.ts';
import { clearInstall, mintInstall, sameHash } from '../nodes/tokens.ts';
import { hashToken } from '../nodes/token-digest.ts';
import { ccError } from '../errors/cc-error.ts';
import { deployJob, newJobId, toolsRef } from './deploy-job.ts';
import { burnInJob, eraseJob } from './maintenance-jobs.ts';
import { maintenanceDone } from './maintenance-outcome.ts';
import { taskNetwork } from '../nodes/static-ip.ts';
import { TASK_FAILURE_FIXES, TaskError } from './task-failure.ts';

/** The policy of `node` when its task runs in the microkernel. */
export function microkernelPolicy(ctx: CoreContext, node: NodeDoc): (PolicyDoc & { task: MicrokernelTask }) | null {
  const p = node.policy ? ctx.policies.get(node.policy) : undefined;
  return p && isMicrokernelTask(p.task) ? (p as PolicyDoc & { task: MicrokernelTask }) : null;
}

/** The node's task record (stored on the node document). */
export function nodeTask(node: NodeDoc): NodeTask | null {
  return (node['task'] as NodeTask | null | undefined) ?? null;
}

/** True when /boot should send the node to its disk: its deploy is written (or done). */
export function bootsFromDisk(node: NodeDoc): boolean {
  const t = nodeTask(node);
  return t?.task === 'image-deploy' && (t.status === 'written' || t.status === 'succeeded');
}

/** Record a failure: the node goes to `error` with the reason; reinstall retries. Call under the lock. */
export function failTask(
  ctx: CoreContext,
  node: NodeDoc,
  task: MicrokernelTask,
  jobId: string,
  code: TaskFailureCode,
  message: string,
): void {
  const now = ctx.now().toISOString();
  const prev = nodeTask(node);
  node['task'] = {
    task,
    job_id: jobId,
    status: 'failed',
    progress: prev?.job_id === jobId ? prev.progress : null,
    started_at: prev?.job_id === jobId ? prev.started_at : now,
    updated_at: now,
    finished_at: now,
    failure: { code, message, fix: TASK_FAILURE_FIXES[code] },
    result: null,
  } satisfies NodeTask;
  node.state = 'error';
  node.error_reason = `${task} failed (${code}): ${message}`;
  clearInstall(node);
  ctx.events.emit('node.task_failed', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `${task} failed: ${message}`,
    data: { task, job_id: jobId, code, fix: TASK_FAILURE_FIXES[code] },
  });
}

/**
 * At check-in: the job for a node bound to a microkernel policy, or null (nothing to do now). A check-in
 * while a job is running means the agent restarted: it gets the job again, under a new id.
 */
export function jobAtCheckin(ctx: CoreContext, nodeId: number, agentToken: string): Promise<AgentJob | null> {
  return durably(ctx, async () => {
    const node = ctx.repo.get(nodeId);
    if (!node || !sameHash(node.agent_token_hash, hashToken(agentToken))) return null;
    const policy = microkernelPolicy(ctx, node);
    const t = nodeTask(node);
    if (!policy || !(node.state === 'bound' || (node.state === 'installing' && t?.status === 'running'))) return null;
    const jobId = newJobId();
    let job: AgentJob;
    try {
      const tools = toolsRef(ctx.config.dataDir, ctx.config.microkernelDir);
      if (policy.task === 'erase') job = eraseJob(policy, tools, jobId);
      else if (policy.task === 'burn-in') job = burnInJob(policy, tools, jobId);
      else {
        const image = policy.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
        const network = taskNetwork(ctx, node);
        job = deployJob({
          node,
          policy,
          image,
          tools,
          publicUrl: ctx.config.publicUrl,
          installToken: mintInstall(ctx, node),
          jobId,
          network,
        });
      }
    } catch (e) {
      if (!(e instanceof TaskError)) throw e;
      failTask(ctx, node, policy.task, jobId, e.code, e.message);
      await ctx.repo.save(node);
      return null;
    }
    const now = ctx.now().toISOString();
    node['task'] = {
      task: policy.task,
      job_id: jobId,
      status: 'running',
      progress: null,
      started_at: now,
      updated_at: now,
      finished_at: null,
      failure: null,
      result: null,
    } satisfies NodeTask;
    node.state = 'installing';
    node.error_reason = null;
    await ctx.repo.save(node);
    // Within the node's budget: every check-in during a running task starts it again (the agent restarted), so the
    // agent decides how often this is written.
    ctx.guard.nodeEvent(node.id, 'node.task_started', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Started ${policy.task} (policy ${policy.name}${policy.image ? `, image ${policy.image}` : ''})`,
      data: { task: policy.task, job_id: jobId, policy: policy.name, image: policy.image },
    });
    return job;
  });
}

/** POST /api/v1/agent/task: the agent's progress and outcome (agent token). */
export async function taskReport(ctx: CoreContext, r: TaskReport): Promise<TaskReportAnswer> {
  const node = ctx.repo.get(r.node_id);
  if (!node || !sameHash(node.agent_token_hash, hashToken(r.agent_token)))
    throw ccError('CC_ERR_FORBIDDEN', `agent token does not match node ${r.node_id}; reboot the node to enrol again`);
  const t = nodeTask(node);
  if (!t || t.job_id !== r.job_id || t.status !== 'running') return { command: 'stop' };
  const now = ctx.now().toISOString();
  if (r.status === 'running') {
    // Progress is not acknowledged durably: the next report replaces it.
    node['task'] = { ...t, progress: r.progress ?? t.progress, updated_at: now };
    node.last_seen = now;
    ctx.repo.touch(node);
    // An event per phase and per 10% (the UI refetches the node on node.* events), within the node's
    // event budget: an agent reporting as fast as it can does not flood the log.
    const p = r.progress;
    if (p && (p.phase !== t.progress?.phase || Math.floor(p.percent / 10) !== Math.floor((t.progress?.percent ?? 0) / 10)))
      ctx.guard.nodeEvent(node.id, 'node.task_progress', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `${t.task}: ${p.phase} ${Math.floor(p.percent)}% (${p.mbps} MB/s)`,
        data: { job_id: t.job_id, progress: p },
      });
    return { command: 'continue' };
  }
  return durably(ctx, async () => {
    const n = ctx.repo.get(r.node_id)!;
    const cur = nodeTask(n);
    if (!cur || cur.job_id !== r.job_id || cur.status !== 'running') return { command: 'stop' as const };
    n.last_seen = now;
    if (cur.task !== 'image-deploy') {
      // Erase and burn-in end here: the machine stays in the microkernel, the agent keeps checking in.
      await maintenanceDone(ctx, n, cur, r);
      await ctx.repo.save(n);
      return { command: 'continue' as const };
    }
    if (r.status === 'failed') {
      failTask(ctx, n, cur.task, cur.job_id, r.failure?.code ?? 'internal', r.failure?.message ?? 'the agent gave no reason');
      await ctx.repo.save(n);
      return { command: 'continue' as const };
    }
    n['task'] = { ...cur, status: 'written', result: r.result ?? null, updated_at: now };
    // The agent leaves for the installed OS: it will not check in again (the node must not turn `lost`).
    n.agent_active = false;
    await ctx.repo.save(n);
    const res = r.result?.kind === 'image-deploy' ? r.result : null;
    ctx.events.emit('node.task_written', {
      node_id: n.id,
      mac: n.boot_mac,
      message: res
        ? `Image written to ${res.disk.name} (${Math.round(res.written_bytes / 1048576)} MiB, ${res.write_mbps} MB/s, ${res.resumes} resumes); rebooting into it`
        : 'Task done; rebooting',
      data: { job_id: cur.job_id, result: r.result ?? null },
    });
    return { command: 'reboot' as const };
  });
}

/** The installed OS called back: the deploy succeeded. Call under the lock, before saving the node. */
export function deployCalledBack(ctx: CoreContext, node: NodeDoc): void {
  const t = nodeTask(node);
  if (t?.task !== 'image-deploy' || t.status !== 'written') return;
  const now = ctx.now().toISOString();
  node['task'] = { ...t, status: 'succeeded', updated_at: now, finished_at: now };
}

/** Fail deploys whose installed OS has not called back within deploy_callback_timeout_s. */
export function sweepDeployCallbacks(ctx: CoreContext): Promise<number> {
  return ctx.lock.run(async () => {
    const limit = ctx.now().getTime() - (ctx.settings.get().deploy_callback_timeout_s ?? 1800) * 1000;
    let n = 0;
    for (const d of ctx.repo.all()) {
      const t = nodeTask(d);
      if (t?.status !== 'written' || Date.parse(t.updated_at) >= limit || d.state !== 'installing') continue;
      failTask(ctx, d, t.task, t.job_id, 'no-callback', `no first-boot callback since the image was written at ${t.updated_at}`);
      await ctx.repo.save(d);
      n++;
    }
    return n;
  });
}
