import { describe, expect, it } from 'vitest';
import { duration, resultLines, taskLine } from './task-progress.ts';
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

describe('result lines', () => {
  it('lists each erased disk with its method, and the burn-in figures, marking what failed', () => {
    const erase: NodeTask = {
      ...base,
      task: 'erase',
      status: 'failed',
      result: {
        kind: 'erase',
        disks: [
          { name: 'vda', size: 32 << 20, serial: 'S1', method: 'blkdiscard', ok: true, seconds: 1.1, note: 'discarded' },
          { name: 'sda', size: 64 << 20, method: null, ok: false, seconds: 3, note: 'overwrite failed: EIO' },
        ],
      },
    };
    expect(resultLines(erase)).toEqual([
      { text: 'vda (32 MiB, S1): blkdiscard, 1.1 s — discarded', ok: true },
      { text: 'sda (64 MiB): NOT erased, 3 s — overwrite failed: EIO', ok: false },
    ]);
    const burn: NodeTask = {
      ...base,
      task: 'burn-in',
      status: 'succeeded',
      result: {
        kind: 'burn-in',
        passed: false,
        seconds: 20,
        cpu: { workers: 2, bogo_ops: 100, failures: 0 },
        memory: { bytes: 256 << 20, bogo_ops: 3, failures: 1 },
        disks: [{ name: 'vda', read_bytes: 8 << 20, read_mbps: 12.5, errors: 0 }],
        facts: {},
      },
    };
    expect(resultLines(burn)).toEqual([
      { text: 'CPU: 2 workers, 100 operations, 0 failures', ok: true },
      { text: 'Memory: 256 MiB tested, 1 failures', ok: false },
      { text: 'vda: read 8 MiB at 12.5 MB/s, 0 errors', ok: true },
    ]);
    expect(resultLines(base)).toEqual([]);
  });
});
