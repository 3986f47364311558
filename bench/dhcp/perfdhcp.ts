/** Run perfdhcp (Debian kea-admin) as a relay and read its report. */
import { execFile } from 'node:child_process';
import type { Lab } from '../../test/support/netns-lab.ts';
import { percentile } from '../percentile.ts';

/** One perfdhcp run. */
export interface PerfResult {
  /** Completed DORA exchanges per second of sending (ACKs / test period); perfdhcp's own rate line also divides by the exit wait. */
  rate: number;
  /** perfdhcp's "Rate:" line. */
  perfdhcpRate: number;
  target: number;
  sent: number;
  acks: number;
  drops: number;
  /** Per-exchange (DISCOVER->OFFER and REQUEST->ACK) latency percentiles (ms) from `-x t`. */
  p50: number | null;
  p99: number | null;
  /**
   * The p99 of the exchanges begun in the first START_S of the step, and of the rest: a server that is still
   * compiling (or throws its optimised code away on the first real packet) shows in the first, GC and load in both.
   */
  p99Start: number | null;
  p99Settled: number | null;
  /**
   * The p99 of each exchange on its own. A server that stops for a while (a collection) delays the DISCOVERs that
   * arrive meanwhile, each one more than the one before, while perfdhcp sends a REQUEST only once its OFFER came:
   * a pause shows mostly in the first (docs/perf/changes.md, "Where the DHCP p99 goes").
   */
  p99Do: number | null;
  p99Ra: number | null;
  avgDo: number | null;
  avgRa: number | null;
}

/** The start window of `p99Start` (seconds from the first exchange sent). */
export const START_S = 0.5;

/** Parse the report (pure; exported for the sake of a fixture check). */
export function parsePerfdhcp(out: string, target: number, seconds: number): PerfResult {
  const sec = (name: string) => out.split(`Statistics for: ${name}`)[1]?.split('***Statistics for')[0] ?? '';
  const n = (s: string, re: RegExp) => Number(s.match(re)?.[1] ?? NaN);
  const doS = sec('DISCOVER-OFFER');
  const raS = sec('REQUEST-ACK');
  // `-x t` prints "sent / received: S / R" (seconds) for every successful exchange, under a heading per exchange.
  const stamps = (name: string): [number, number][] => {
    const part = out.split(`***Timestamps for packets: ${name}***`)[1]?.split('***')[0] ?? '';
    const got: [number, number][] = [];
    for (const m of part.matchAll(/sent \/ received: ([\d.]+) \/ ([\d.]+)/g)) {
      const [sent, back] = [Number(m[1]), Number(m[2])];
      if (Number.isFinite(sent) && Number.isFinite(back)) got.push([sent, (back - sent) * 1000]);
    }
    return got;
  };
  const exDo = stamps('DISCOVER-OFFER');
  const exRa = stamps('REQUEST-ACK');
  const ex = [...exDo, ...exRa];
  const p99Of = (xs: [number, number][]) =>
    percentile(
      xs.map((e) => e[1]).sort((a, b) => a - b),
      99,
    );
  const t0 = ex.reduce((a, e) => Math.min(a, e[0]), Infinity);
  const ms = (keep: (sent: number) => boolean) =>
    ex
      .filter((e) => keep(e[0]))
      .map((e) => e[1])
      .sort((a, b) => a - b);
  const sorted = ms(() => true);
  return {
    rate: n(raS, /received packets: (\d+)/) / seconds,
    perfdhcpRate: n(out, /Rate: ([\d.]+) 4-way/),
    target,
    sent: n(doS, /sent packets: (\d+)/),
    acks: n(raS, /received packets: (\d+)/),
    drops: n(doS, /drops: (\d+)/) + n(raS, /drops: (\d+)/),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p99Start: percentile(
      ms((t) => t - t0 < START_S),
      99,
    ),
    p99Settled: percentile(
      ms((t) => t - t0 >= START_S),
      99,
    ),
    p99Do: p99Of(exDo),
    p99Ra: p99Of(exRa),
    avgDo: n(doS, /avg delay: ([\d.]+) ms/) || null,
    avgRa: n(raS, /avg delay: ([\d.]+) ms/) || null,
  };
}

/** Where and how perfdhcp runs. */
export interface PerfRun {
  ns: string;
  relay: string;
  server: string;
  rate: number;
  seconds: number;
  /** Distinct client MACs (-R). */
  clients: number;
  seed: number;
  /** `taskset -c CPUS`, or null. */
  cpus: string | null;
  extra?: string[];
}

/** One run at `rate` DORA/s for `seconds`, `clients` distinct MACs, relayed from `relay`. */
export function perfdhcp(lab: Lab, o: PerfRun): Promise<PerfResult & { raw: string }> {
  const { rate, seconds, clients, seed, server } = o;
  const args = [
    '-4',
    '-l',
    o.relay,
    '-r',
    String(rate),
    '-R',
    String(clients),
    '-p',
    String(seconds),
    '-s',
    String(seed),
    '-W',
    '1000000',
    ...(o.extra ?? []),
    server,
  ];
  const cmd = o.cpus ? ['taskset', '-c', o.cpus, 'perfdhcp'] : ['perfdhcp'];
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', lab.ns(o.ns), ...cmd, ...args],
      { timeout: (seconds + 30) * 1000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (_e, stdout, stderr) => {
        const raw = `${stdout}${stderr}`;
        resolve({ ...parsePerfdhcp(raw, rate, seconds), raw });
      },
    );
  });
}
