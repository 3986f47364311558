/**
 * Erase and burn-in as the runner reports them: the result always goes back (per-disk rows, burn-in
 * figures), with a failure when a disk was not erased, no disk was found, or the burn-in found a fault.
 */
import type { BurnInJob, EraseJob, EraseResult, BurnInResult, TaskFailure, TaskProgress } from '../../contract/agent-tasks.ts';
import { runErase } from './erase.ts';
import { runBurnIn } from './burn-in.ts';
import type { Disk } from './root-disk.ts';

/** The surroundings both tasks need. */
export interface MaintenanceEnv {
  disks: () => Disk[];
  progress: (p: TaskProgress) => Promise<void>;
  log: (msg: string, data?: Record<string, unknown>) => void;
  debug?: (msg: string, data?: Record<string, unknown>) => void;
  /** True once the appliance no longer wants the job: erase stops before the next disk. */
  stopped?: () => boolean;
  progressIntervalMs?: number;
}

/** A finished erase or burn-in: the result, and the failure when it did not pass. */
export interface MaintenanceOutcome {
  result: EraseResult | BurnInResult;
  failure: TaskFailure | null;
}

/** Run an erase or burn-in job. */
export async function runMaintenance(job: EraseJob | BurnInJob, env: MaintenanceEnv): Promise<MaintenanceOutcome> {
  if (job.kind === 'erase') {
    const result = await runErase(job, env);
    const bad = result.disks.filter((d) => !d.ok);
    if (result.disks.length === 0)
      return {
        result,
        failure: { code: 'erase-failed', message: 'the microkernel found no disk to erase (is the storage controller supported?)' },
      };
    if (bad.length)
      return {
        result,
        failure: { code: 'erase-failed', message: `not erased: ${bad.map((d) => `${d.name} (${d.note})`).join('; ')}`.slice(0, 2000) },
      };
    return { result, failure: null };
  }
  const result = await runBurnIn(job, env);
  if (result.passed) return { result, failure: null };
  const why = [
    result.cpu.failures ? `${result.cpu.failures} CPU miscalculations` : '',
    result.memory.failures ? `${result.memory.failures} memory words read back wrong` : '',
    ...result.disks.filter((d) => d.errors).map((d) => `${d.errors} read errors on ${d.name}`),
  ].filter(Boolean);
  return { result, failure: { code: 'burn-in-failed', message: `burn-in failed: ${why.join(', ')}` } };
}
