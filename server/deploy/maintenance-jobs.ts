/**
 * The `erase` and `burn-in` jobs (issue 13): built from the policy's metadata at check-in, like the deploy
 * job (deploy-job.ts). Erase settings: `erase_overwrite_only`; burn-in: `burnin_duration_s`,
 * `burnin_memory_percent`, `burnin_disk_read_s` (docs/deploy.md "Erase" and "Burn-in"). Pure.
 */
import type { BurnInJob, EraseJob, ToolsRef } from '../../contract/agent-tasks.ts';
import type { TaskField } from '../../contract/index.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { TaskError } from './task-failure.ts';

/** An hour: long enough to catch a marginal DIMM or a fan that cannot keep up, short enough for a rack day. */
export const DEFAULT_BURNIN_DURATION_S = 3600;
/** Most of the free memory, leaving the microkernel's tmpfs and the agent room to work. */
export const DEFAULT_BURNIN_MEMORY_PERCENT = 70;
/** Two minutes of sequential reads per disk finds a disk that throws read errors without wearing it. */
export const DEFAULT_BURNIN_DISK_READ_S = 120;

/** The policy form's fields for the burn-in task (metadata keys; the form sends text). */
export const BURNIN_FIELDS: TaskField[] = [
  { key: 'burnin_duration_s', label: 'Duration (seconds)', kind: 'text', required: false, placeholder: String(DEFAULT_BURNIN_DURATION_S) },
  { key: 'burnin_memory_percent', label: 'Memory to test (% of free)', kind: 'text', required: false, placeholder: '70' },
  { key: 'burnin_disk_read_s', label: 'Disk read per disk (seconds)', kind: 'text', required: false, placeholder: '120' },
];

/** The policy form's field for the erase task. */
export const ERASE_FIELDS: TaskField[] = [
  {
    key: 'erase_overwrite_only',
    label: 'Overwrite only (true/false)',
    kind: 'text',
    required: false,
    help: 'true: skip NVMe format, ATA secure erase and discard and always write zeros over every byte (slow).',
    placeholder: 'false',
  },
];

/** A whole number from metadata (a number, or text from the policy form), within bounds; `def` when absent. */
export function metaInt(policy: PolicyDoc, key: string, def: number, min: number, max: number): number {
  const v = policy.metadata?.[key];
  if (v === undefined || v === null || v === '') return def;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,9}\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TaskError('internal', `policy ${policy.name}: metadata.${key} must be a whole number from ${min} to ${max}`);
  return n;
}

/** A yes/no from metadata (a boolean, or "true"/"false" from the policy form). */
export function metaBool(policy: PolicyDoc, key: string): boolean {
  const v = policy.metadata?.[key];
  if (v === true || (typeof v === 'string' && /^\s*(true|yes|1)\s*$/i.test(v))) return true;
  if (v === undefined || v === null || v === false || (typeof v === 'string' && /^\s*(false|no|0|)\s*$/i.test(v))) return false;
  throw new TaskError('internal', `policy ${policy.name}: metadata.${key} must be true or false`);
}

/** The erase job of a node bound to an `erase` policy. */
export function eraseJob(policy: PolicyDoc, tools: ToolsRef, jobId: string): EraseJob {
  return { kind: 'erase', job_id: jobId, tools, overwrite_only: metaBool(policy, 'erase_overwrite_only') };
}

/** The burn-in job of a node bound to a `burn-in` policy; the disk reads fit inside the duration. */
export function burnInJob(policy: PolicyDoc, tools: ToolsRef, jobId: string): BurnInJob {
  const duration = metaInt(policy, 'burnin_duration_s', DEFAULT_BURNIN_DURATION_S, 10, 7 * 86400);
  const disk = metaInt(policy, 'burnin_disk_read_s', Math.min(DEFAULT_BURNIN_DISK_READ_S, Math.floor(duration / 4)), 0, 86400);
  if (disk > duration)
    throw new TaskError('internal', `policy ${policy.name}: burnin_disk_read_s (${disk}) is longer than burnin_duration_s (${duration})`);
  return {
    kind: 'burn-in',
    job_id: jobId,
    tools,
    duration_s: duration,
    memory_percent: metaInt(policy, 'burnin_memory_percent', DEFAULT_BURNIN_MEMORY_PERCENT, 1, 95),
    disk_read_s: disk,
  };
}
