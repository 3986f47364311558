import { describe, expect, it } from 'vitest';
import { duration, taskLine } from './task-progress.ts';
import type { NodeTask } from '../../../contract/agent-tasks.ts';

const base: NodeTask = {
  task: 'image-deploy',
  job_id: 'job-1234',
  status: 'running',
  progress: null,
  started_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  finished_at: null,
  failure: null,
  result: null,
};

describe('task line', () => {
  it('shows phase, percent, MB/s, ETA, resumes and disk while running; the outcome after', () => {
    expect(taskLine(base)).toBe('image-deploy: starting');
    const p = { phase: 'write', bytes_done: 1, bytes_total: 2, percent: 42, mbps: 85.3, eta_s: 70, resumes: 1, detail: '/dev/vda' };
    expect(taskLine({ ...base, progress: p })).toBe('write 42% · 85.3 MB/s · ETA 1 min 10 s · 1 resumed · /dev/vda');
    expect(taskLine({ ...base, status: 'written' })).toMatch(/call back/);
    expect(taskLine({ ...base, status: 'failed', failure: { code: 'no-fitting-disk', message: 'no disk holds it', fix: 'x' } })).toBe(
      'image-deploy failed (no-fitting-disk): no disk holds it',
    );
    expect(duration(3725)).toBe('1 h 2 min');
    expect(duration(12)).toBe('12 s');
  });
});
