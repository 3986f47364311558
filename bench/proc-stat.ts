/**
 * CPU time from /proc/PID/stat (or /proc/PID/task/TID/stat), the one parser the benches share. Fields are counted
 * after the command name, which may itself hold spaces and parentheses; utime, stime, cutime and cstime are fields
 * 14-17 of proc(5), in clock ticks (USER_HZ = 100).
 */
import { readFileSync } from 'node:fs';

/** CPU milliseconds in a stat file's text: utime + stime, plus the reaped children's (cutime + cstime) with `children`. */
export function statCpuMs(stat: string, children = false): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / 100;
}

/** The CPU milliseconds of a process (`/proc/PID/stat`) or thread (`/proc/PID/task/TID/stat`) so far; throws once it is gone. */
export function procCpuMs(statFile: string, children = false): number {
  return statCpuMs(readFileSync(statFile, 'utf8'), children);
}

/** One CPU's time from /proc/stat, in ms: busy (user, nice, system, irq, softirq), idle (idle, iowait), and steal (taken by the hypervisor). */
export interface CoreTimes {
  busy: number;
  idle: number;
  steal: number;
}

/** Every `cpuN` line of /proc/stat's text (proc(5): user nice system idle iowait irq softirq steal ...), by N. */
export function coreTimes(text: string): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const m of text.matchAll(/^cpu(\d+) (.*)$/gm)) {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2]!
      .trim()
      .split(/\s+/)
      .map((x) => (Number(x) * 1000) / 100);
    out[Number(m[1])] = { busy: user! + nice! + system! + irq! + softirq!, idle: idle! + iowait!, steal: steal ?? 0 };
  }
  return out;
}

/** This machine's CPUs' time so far (/proc/stat). */
export const readCoreTimes = (): CoreTimes[] => coreTimes(readFileSync('/proc/stat', 'utf8'));

/** Each CPU's time between two readings: `before`, and `after` (now when absent); a CPU missing from `before` counts from 0. */
export function coresSince(before: CoreTimes[], after: CoreTimes[] = readCoreTimes()): CoreTimes[] {
  return after.map((c, i) => {
    const o = before[i] ?? { busy: 0, idle: 0, steal: 0 };
    return { busy: c.busy - o.busy, idle: c.idle - o.idle, steal: c.steal - o.steal };
  });
}
