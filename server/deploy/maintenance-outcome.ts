/**
 * The end of an `erase` or `burn-in` job on the appliance side (issue 13). The machine stays in the
 * microkernel: a finished job leaves the node `installed` (the policy's work is done, /boot answers "local
 * disk"), a failed one `error` with the reason and its fix (reinstall retries). Erase emits one event per
 * disk; burn-in's results become `burnin_*` facts that tag rules can read, and one event.
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BurnInResult, EraseResult, NodeTask, TaskReport } from '../../contract/agent-tasks.ts';
import { clearInstall } from '../nodes/tokens.ts';
import { retag } from '../tags/retag.ts';
import { failTask } from './task-flow.ts';
import { mergeBurnInFacts } from './burnin-facts.ts';

/** A one-line summary of one erased disk for the event log. */
export function eraseLine(d: EraseResult['disks'][number]): string {
  const mib = Math.round(d.size / 1048576);
  return `${d.name} (${mib} MiB): ${d.ok ? `erased by ${d.method}` : 'NOT erased'} in ${d.seconds.toFixed(1)} s${d.note ? `; ${d.note}` : ''}`;
}

/** A one-line summary of a burn-in for the event log. */
export function burnInLine(r: BurnInResult): string {
  const disks = r.disks.map((d) => `${d.name} ${d.read_mbps} MB/s${d.errors ? ` ${d.errors} errors` : ''}`).join(', ');
  return (
    `burn-in ${r.passed ? 'passed' : 'FAILED'} after ${Math.round(r.seconds)} s: CPU ${r.cpu.workers} workers ` +
    `${r.cpu.failures} failures, memory ${Math.round(r.memory.bytes / 1048576)} MiB ${r.memory.failures} failures` +
    (disks ? `, disks ${disks}` : '')
  );
}

/** Record the outcome of an erase or burn-in report; call under the lock, then save the node. */
export async function maintenanceDone(ctx: CoreContext, node: NodeDoc, cur: NodeTask, r: TaskReport): Promise<void> {
  const now = ctx.now().toISOString();
  // A result of another kind than the job is not this job's (a confused or hostile agent): dropped.
  const result = r.result?.kind === cur.task ? r.result : null;
  if (result?.kind === 'erase')
    for (const d of result.disks)
      ctx.events.emit('node.disk_erased', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Erase ${eraseLine(d)}`,
        data: { job_id: cur.job_id, disk: d },
      });
  if (result?.kind === 'burn-in') {
    const doc = await ctx.store.facts.findOne({ _id: String(node.id) });
    const facts = mergeBurnInFacts(doc?.facts ?? {}, result.facts);
    await ctx.store.facts.put({ ...(doc ?? { inventory: null }), _id: String(node.id), facts, updated_at: now });
    retag(ctx, node, facts);
  }
  const failed =
    r.status === 'failed' ||
    (result?.kind === 'burn-in' && !result.passed) ||
    (result?.kind === 'erase' && result.disks.some((d) => !d.ok));
  if (failed) {
    const code = r.failure?.code ?? (cur.task === 'erase' ? 'erase-failed' : 'burn-in-failed');
    const message = r.failure?.message ?? (result?.kind === 'burn-in' ? burnInLine(result) : 'the agent gave no reason');
    failTask(ctx, node, cur.task, cur.job_id, code, message);
    node['task'] = { ...(node['task'] as NodeTask), result };
    return;
  }
  node['task'] = { ...cur, status: 'succeeded', result, updated_at: now, finished_at: now } satisfies NodeTask;
  node.state = 'installed';
  node.error_reason = null;
  clearInstall(node);
  ctx.events.emit('node.task_succeeded', {
    node_id: node.id,
    mac: node.boot_mac,
    message:
      result?.kind === 'burn-in'
        ? burnInLine(result)
        : result?.kind === 'erase'
          ? `Erase done: ${result.disks.length} disk(s) erased`
          : `${cur.task} done`,
    data: { task: cur.task, job_id: cur.job_id, result },
  });
}
