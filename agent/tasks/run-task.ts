/**
 * Carry out a job the appliance gave in a check-in answer (`run-task`): fetch the tools overlay, run the
 * task, report progress and the outcome with the agent token. Returns what the appliance said to do next.
 */
import http from 'node:http';
import { loadHttps } from '../loop/lazy-https.ts';
import type { AgentJob, TaskProgress, TaskReport } from '../../contract/agent-tasks.ts';
import type { ApplianceClient } from '../loop/client.ts';
import type { AgentLogger } from '../loop/logger.ts';
import { listDisks, type Disk } from './root-disk.ts';
import { runDeploy } from './deploy.ts';
import { runMaintenance } from './maintenance.ts';
import { MAX_TOOLS_BYTES, unpackTools } from './tools-overlay.ts';
import { TaskError } from './task-error.ts';

/** Where the runner finds the machine (the real one by default). */
export interface TaskRunnerOptions {
  client: ApplianceClient;
  log: AgentLogger;
  /** Where the tools overlay is unpacked ("/" in the microkernel; null: the tools are on PATH already). */
  toolsRoot: string | null;
  disks?: () => Disk[];
  progressIntervalMs?: number;
}

/** What the loop does after the task. */
export type TaskOutcome = 'reboot' | 'continue';

/** GET a binary resource up to `max` bytes. */
export async function download(url: string, max: number, timeoutMs = 60_000): Promise<Buffer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? await loadHttps() : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${u.pathname}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > max) req.destroy(new Error(`GET ${u.pathname}: more than ${max} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${u.pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Run one job; never throws (a failure is reported to the appliance). */
export async function runTask(job: AgentJob, creds: { node_id: number; agent_token: string }, o: TaskRunnerOptions): Promise<TaskOutcome> {
  const base = { node_id: creds.node_id, agent_token: creds.agent_token, job_id: job.job_id };
  const send = async (r: Omit<TaskReport, 'node_id' | 'agent_token' | 'job_id'>): Promise<TaskOutcome | 'stop'> => {
    const a = await o.client.taskReport({ ...base, ...r });
    return a.command === 'reboot' ? 'reboot' : a.command === 'stop' ? 'stop' : 'continue';
  };
  // Unbound, rebound or superseded while running: the appliance answers a progress report with `stop`.
  let stopped = false;
  const progress = async (p: TaskProgress): Promise<void> => {
    if ((await send({ status: 'running', progress: p })) === 'stop') stopped = true;
  };
  o.log.info({ job_id: job.job_id, kind: job.kind }, `starting task ${job.kind}`);
  try {
    await progress({ phase: 'tools', bytes_done: 0, bytes_total: job.tools.size, percent: 0, mbps: 0, eta_s: null });
    if (o.toolsRoot !== null) {
      let img: Buffer;
      try {
        img = await download(o.client.resolve(job.tools.url), MAX_TOOLS_BYTES);
        const u = unpackTools(img, job.tools, o.toolsRoot);
        o.log.info(u, 'task tools unpacked');
      } catch (e) {
        throw new TaskError('tools-failed', `the task tools overlay could not be loaded: ${(e as Error).message}`);
      }
    }
    const disks = o.disks ?? (() => listDisks());
    const log = (msg: string, data?: Record<string, unknown>): void => o.log.info(data ?? {}, msg);
    if (job.kind !== 'image-deploy') {
      const debug = (msg: string, data?: Record<string, unknown>): void => o.log.debug(data ?? {}, msg);
      const m = await runMaintenance(job, {
        disks,
        progress,
        log,
        debug,
        stopped: () => stopped,
        progressIntervalMs: o.progressIntervalMs,
      });
      o.log.info({ job_id: job.job_id, ok: m.failure === null }, `task ${job.kind} finished`);
      await reportOutcome(
        () => send(m.failure ? { status: 'failed', failure: m.failure, result: m.result } : { status: 'succeeded', result: m.result }),
        o.log,
      );
      return 'continue';
    }
    const result = await runDeploy(job, {
      disks,
      progress,
      log,
      imageUrl: o.client.resolve(job.image.url),
      progressIntervalMs: o.progressIntervalMs,
    });
    o.log.info({ job_id: job.job_id, ...result.disk, mbps: result.write_mbps }, 'task finished');
    const next = await reportOutcome(() => send({ status: 'succeeded', result }), o.log);
    return next === 'reboot' ? 'reboot' : 'continue';
  } catch (e) {
    const failure =
      e instanceof TaskError
        ? { code: e.code, message: e.message.slice(0, 2000) }
        : { code: 'internal' as const, message: String((e as Error)?.message ?? e).slice(0, 2000) };
    o.log.error({ job_id: job.job_id, ...failure }, `task ${job.kind} failed`);
    await reportOutcome(() => send({ status: 'failed', failure }), o.log);
    return 'continue';
  }
}

/** The outcome must reach the appliance: retried for a few minutes (the appliance may be restarting). */
async function reportOutcome(f: () => Promise<TaskOutcome | 'stop'>, log: AgentLogger): Promise<TaskOutcome | 'stop'> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= 30) throw e;
      log.warn({ attempt: i + 1 }, `reporting the task outcome failed, retrying: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}
