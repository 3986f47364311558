/**
 * The rate sweep of one configuration: for each rate and repetition, every server in turn (interleaved, so
 * a burst of load from other jobs on this shared machine hits all of them alike), each on a freshly started
 * server with an empty lease store, perfdhcp relayed DORA with a fixed set of distinct clients. The
 * server's CPU time (user + system, all threads, from /proc) is taken around each step: CPU per exchange
 * is the figure that noise from other jobs disturbs least.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Lab } from '../../test/support/netns-lab.ts';
import { NET, type Starter } from './servers.ts';
import { coresSince, procCpuMs, readCoreTimes, type CoreTimes } from '../proc-stat.ts';
import { START_S, perfdhcp, type PerfResult } from './perfdhcp.ts';

/** A bench configuration: where things run and where the data lives. */
export interface BenchConfig {
  name: string;
  /** taskset CPU lists for the server and perfdhcp, or null (unpinned). */
  serverCpus: string | null;
  clientCpus: string | null;
  /** Folder the data dirs are made in: ext4 (fdatasync is real) or tmpfs (fdatasync returns at once). */
  root: string;
  fsync: boolean;
}

/**
 * One repetition: perfdhcp's result plus the server's CPU time during it, and the datagrams the kernel dropped
 * because a socket's receive buffer was full (UDP RcvbufErrors of /proc/net/snmp): in perfdhcp's namespace (its
 * own socket: a reply that arrived while perfdhcp was not reading, which it then counts as a drop) and in the
 * server's (a request the server never saw). `coresBusy`: each CPU's busy share of the step's wall time, in % (pinned,
 * CPU 0 is the server's and CPU 1 perfdhcp's): past the rate a server sustains, perfdhcp's own CPU may be the limit.
 */
export type Rep = PerfResult & { cpuMs: number; clientRcvbufDrops: number; serverRcvbufDrops: number; coresBusy: number[] };

/** One rate step: the repetitions at that rate. */
export interface Step {
  target: number;
  reps: Rep[];
  /** Zero drops in every repetition. */
  clean: boolean;
  /** Worst of the repetitions: lowest achieved rate, highest p50/p99. */
  rate: number;
  p50: number | null;
  p99: number | null;
  /** The p99 of DISCOVER->OFFER and of REQUEST->ACK alone (worst of the repetitions). */
  p99Do: number | null;
  p99Ra: number | null;
  drops: number;
  sent: number;
  /** Server CPU microseconds per completed DORA (mean of the repetitions). */
  cpuUsPerDora: number | null;
  /** Datagrams dropped at a full receive buffer, all repetitions: perfdhcp's socket, the server's. */
  clientRcvbufDrops: number;
  serverRcvbufDrops: number;
  /** Each CPU's busy share in %, the highest of the repetitions. */
  coresBusy: number[];
}

/** A server's sweep. */
export interface Sweep {
  server: string;
  steps: Step[];
  /** Highest target with zero drops in every repetition. */
  best: Step | null;
  note: string;
  /** Two consecutive steps with more than 5 % drops: the sweep stopped for this server. */
  saturated: number;
}

/** What a sweep needs. */
export interface SweepOpts {
  rates: number[];
  seconds: number;
  clients: number;
  reps: number;
  profileDir?: string;
  /** `serve` under `--trace-gc-nvp`, its collections in each step's note. */
  traceGc?: boolean;
  log(line: string): void;
}

const worst = (xs: (number | null)[]) => xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);

/** utime + stime of a process (all its threads), in ms. */
function cpuMs(pid: number): number {
  try {
    return procCpuMs(`/proc/${pid}/stat`);
  } catch {
    return NaN;
  }
}

/** The UDP RcvbufErrors counter of a namespace (socket receive buffers full). */
function rcvbufErrors(lab: Lab, ns: string): number {
  const udp = lab
    .exec(ns, 'cat', ['/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = udp[0]?.split(/\s+/) ?? [];
  const values = udp[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('RcvbufErrors')] ?? NaN);
}

async function once(lab: Lab, start: Starter, cfg: BenchConfig, o: SweepOpts, target: number, i: number): Promise<[Rep, string]> {
  const dir = fs.mkdtempSync(path.join(cfg.root, 'pt-'));
  const srv = await start(lab, 'srv', { cpus: cfg.serverCpus, dir, profileDir: o.profileDir, traceGc: o.traceGc });
  srv.markGc?.();
  const c0 = cpuMs(srv.pid);
  const [client0, server0] = [rcvbufErrors(lab, 'perf'), rcvbufErrors(lab, 'srv')];
  const cores0 = readCoreTimes();
  const r = await perfdhcp(lab, {
    ns: 'perf',
    relay: NET.relay,
    server: NET.server,
    rate: target,
    seconds: o.seconds,
    clients: o.clients,
    seed: target * 10 + i,
    cpus: cfg.clientCpus,
    extra: ['-x', 't'],
  });
  const used = cpuMs(srv.pid) - c0;
  const coresBusy = busyShares(coresSince(cores0));
  const clientRcvbufDrops = rcvbufErrors(lab, 'perf') - client0;
  const serverRcvbufDrops = rcvbufErrors(lab, 'srv') - server0;
  const note = await srv.note().catch(() => '');
  await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return [{ ...r, cpuMs: used, clientRcvbufDrops, serverRcvbufDrops, coresBusy }, note];
}

/** Each CPU's busy share of its time over a span (bench/proc-stat.ts coresSince), in % (steal included in the whole). */
function busyShares(span: CoreTimes[]): number[] {
  return span.map((c) => {
    const all = c.busy + c.idle + c.steal;
    return all > 0 ? Math.round((100 * c.busy) / all) : 0;
  });
}

/** Sweep every server over the rates, interleaved; a server leaves the sweep once saturated. */
export async function sweepAll(lab: Lab, servers: [string, Starter][], cfg: BenchConfig, o: SweepOpts): Promise<Sweep[]> {
  const sweeps: Sweep[] = servers.map(([server]) => ({ server, steps: [], best: null, note: '', saturated: 0 }));
  for (const target of o.rates) {
    const live = servers.map((s, k) => [s, sweeps[k]!] as const).filter(([, sw]) => sw.saturated < 2);
    if (live.length === 0) break;
    const reps = new Map<Sweep, Rep[]>(live.map(([, sw]) => [sw, []]));
    for (let i = 0; i < o.reps; i++)
      for (const [[name, start], sw] of live) {
        const [r, note] = await once(lab, start, cfg, o, target, i);
        if (note) sw.note = note;
        reps.get(sw)!.push(r);
        o.log(
          `${cfg.name} ${name} @ ${target}/s #${i + 1}: ${r.rate.toFixed(0)}/s, drops ${r.drops}/${r.sent}, p50 ${r.p50?.toFixed(2)} p99 ${r.p99?.toFixed(2)} ms (first ${START_S} s ${r.p99Start?.toFixed(2)}, after ${r.p99Settled?.toFixed(2)}; DISCOVER->OFFER ${r.p99Do?.toFixed(2)}, REQUEST->ACK ${r.p99Ra?.toFixed(2)}), cpu ${(r.cpuMs / Math.max(1, r.acks)).toFixed(3)} ms/DORA, full receive buffers: perfdhcp ${r.clientRcvbufDrops}, server ${r.serverRcvbufDrops}, CPUs busy ${r.coresBusy.join('/')} %; ${note}`,
        );
      }
    for (const [, sw] of live) {
      const rs = reps.get(sw)!;
      const cpu = rs.map((r) => (r.acks > 0 ? (r.cpuMs * 1000) / r.acks : NaN)).filter(Number.isFinite);
      const step: Step = {
        target,
        reps: rs,
        clean: rs.every((r) => r.drops === 0 && r.acks > 0),
        rate: Math.min(...rs.map((r) => r.rate)),
        p50: worst(rs.map((r) => r.p50)),
        p99: worst(rs.map((r) => r.p99)),
        p99Do: worst(rs.map((r) => r.p99Do)),
        p99Ra: worst(rs.map((r) => r.p99Ra)),
        drops: rs.reduce((n, r) => n + r.drops, 0),
        sent: rs.reduce((n, r) => n + r.sent, 0),
        cpuUsPerDora: cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : null,
        clientRcvbufDrops: rs.reduce((n, r) => n + r.clientRcvbufDrops, 0),
        serverRcvbufDrops: rs.reduce((n, r) => n + r.serverRcvbufDrops, 0),
        coresBusy: rs[0]!.coresBusy.map((_, k) => Math.max(...rs.map((r) => r.coresBusy[k] ?? 0))),
      };
      sw.steps.push(step);
      if (step.clean && (!sw.best || target > sw.best.target)) sw.best = step;
      sw.saturated = step.sent === 0 || step.drops / step.sent > 0.05 ? sw.saturated + 1 : 0;
    }
  }
  return sweeps;
}
