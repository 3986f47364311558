/**
 * The benches' one /proc stat parser (bench/proc-stat.ts): a command name holding spaces and parentheses, the
 * children's time only when asked, and this process's own stat file read for real.
 */
import { describe, expect, it } from 'vitest';
import { procCpuMs, statCpuMs } from '../../bench/proc-stat.ts';

// proc(5): pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17) ...
const line = (comm: string) => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 500 0 0 0 123 45 6 7 20 0 3 0 100 0 0\n`;

describe('bench/proc-stat', () => {
  it('counts utime + stime in ms (USER_HZ 100), the reaped children only with `children`', () => {
    expect(statCpuMs(line('node'))).toBe(1680);
    expect(statCpuMs(line('node'), true)).toBe(1810);
  });

  it('is not misled by a command name with spaces and parentheses', () => {
    expect(statCpuMs(line('a) b (c'))).toBe(1680);
    expect(statCpuMs(line('cc-tftp-pump'), true)).toBe(1810);
  });

  it('reads a live process and thread, and its time only grows', () => {
    const a = procCpuMs('/proc/self/stat');
    const end = Date.now() + 50;
    while (Date.now() < end); // burn a few ticks
    expect(procCpuMs('/proc/self/stat')).toBeGreaterThanOrEqual(a);
    expect(Number.isFinite(procCpuMs(`/proc/self/task/${process.pid}/stat`))).toBe(true);
    expect(() => procCpuMs('/proc/0/stat')).toThrow();
  });
});
