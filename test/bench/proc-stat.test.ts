/**
 * The benches' one /proc stat parser (bench/proc-stat.ts): a command name holding spaces and parentheses, the
 * children's time only when asked, and this process's own stat file read for real; /proc/stat's per-CPU lines.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { coreTimes, coresSince, procCpuMs, readCoreTimes, statCpuMs } from '../../bench/proc-stat.ts';

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

  it("splits /proc/stat's per-CPU lines into busy, idle and steal ms, by CPU number, the total line left out", () => {
    const text = [
      'cpu  600 20 150 500 50 0 18 22 0 0',
      'cpu0 333 15 69 279 16 0 9 10 0 0',
      'cpu1 320 2 80 268 41 0 9 11 0 0',
      'intr 266 0 0',
      'ctxt 810',
    ].join('\n');
    expect(coreTimes(text)).toEqual([
      { busy: 4260, idle: 2950, steal: 100 },
      { busy: 4110, idle: 3090, steal: 110 },
    ]);
    // A kernel older than steal accounting (2.6.11) has seven fields.
    expect(coreTimes('cpu3 1 2 3 4 5 6 7')).toEqual([undefined, undefined, undefined, { busy: 190, idle: 90, steal: 0 }]);
  });

  it("gives each CPU's time between two readings, a CPU the first reading lacks counted from 0", () => {
    const before = [{ busy: 100, idle: 900, steal: 0 }];
    const after = [
      { busy: 160, idle: 930, steal: 10 },
      { busy: 5, idle: 7, steal: 1 },
    ];
    expect(coresSince(before, after)).toEqual([
      { busy: 60, idle: 30, steal: 10 },
      { busy: 5, idle: 7, steal: 1 },
    ]);
  });

  it('reads this machine: a line per CPU, and no count goes down', () => {
    const a = readCoreTimes();
    expect(a.filter(Boolean)).toHaveLength(os.cpus().length);
    const b = readCoreTimes();
    a.forEach((c, i) => {
      expect(b[i]!.busy + b[i]!.idle + b[i]!.steal).toBeGreaterThanOrEqual(c.busy + c.idle + c.steal);
    });
  });
});
