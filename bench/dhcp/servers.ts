/**
 * The DHCP servers the bench compares, each started in the server namespace of a Lab, optionally
 * pinned to CPUs with taskset (the independent harness pinned the server's namespace to one core and
 * perfdhcp to the other). Crashcart runs as the real `crashcart serve` (the whole appliance: node and
 * admin planes, TFTP, the event log, the RA responder), or with `harness: 'plugin'` as the DHCP plugin
 * alone on its store (what this bench measured before; kept to show what the rest of the process costs).
 * `crashcartServe` offers no load before the DHCP warm start (server/dhcp/warm-start.ts) has finished: it polls
 * GET /api/v1/status until the dhcp service's `warmStart.state` is `done`, so the warm start's own CPU is not
 * counted in the step; `crashcartCold` is the same server with `--dhcp-warm-start off` (the A/B in one run).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../test/support/netns-lab.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { spawnAppliance, standInMicrokernel } from '../../test/support/appliance.ts';
import { DhcpPluginProc } from '../../test/support/dhcp-plugin.ts';
import type { ApplianceStatus, ServiceStatus } from '../../contract/index.ts';
import { SHIPPED_ENV, SOURCES_ENV } from '../shipped.ts';
import { gcLine, parseGcTrace, summarizeGc } from '../gc-trace.ts';
import { keaConfig, type KeaReplies } from './kea-config.ts';

/** Addresses of the bench link. */
export const NET = { server: '10.9.0.1', relay: '10.9.0.2', prefix: 16, start: '10.9.1.0', end: '10.9.255.250' };

/** How a server is started. */
export interface StartOpts {
  /** `taskset -c CPUS` prefix, or null for no pinning. */
  cpus: string | null;
  /** Data folder (on ext4 for the fsync rows, on tmpfs for the fsync-off rows). */
  dir: string;
  /** Write a CPU profile into this folder (Crashcart only). */
  profileDir?: string;
  /** Run `serve` under `--trace-gc-nvp` and report its collections in the step (Crashcart only). */
  traceGc?: boolean;
}

/** A started server. */
export interface Running {
  pid: number;
  stop(): Promise<void>;
  /** Extra facts for the table (ACKs, fsyncs, ...). */
  note(): Promise<string>;
  /** The step starts now: the note's collections are those after this (with `traceGc`). */
  markGc?(): void;
}

/** A named starter. */
export type Starter = (lab: Lab, ns: string, o: StartOpts) => Promise<Running>;

const pin = (cpus: string | null, cmd: string, args: string[]): [string, string[]] =>
  cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];

/** The dhcp service's warm start as GET /api/v1/status reports it (read with curl inside the server's namespace). */
function warmStartOf(lab: Lab, ns: string, adminUrl: string, token: string): ServiceStatus['warmStart'] {
  const body = lab.exec(ns, 'curl', ['-sf', '-H', `Authorization: Bearer ${token}`, `${adminUrl}/api/v1/status`]);
  const st = JSON.parse(body) as ApplianceStatus;
  return st.services.find((x) => x.name === 'dhcp')?.warmStart;
}

/** The real appliance with its DHCP warm start (the default). */
export const crashcartServe: Starter = (lab, ns, o) => serve(lab, ns, o, true);
/** The real appliance with `--dhcp-warm-start off`: every step starts on the cold path. */
export const crashcartCold: Starter = (lab, ns, o) => serve(lab, ns, o, false);
/** The real appliance with `--dhcp-js`: its DHCP sockets read by Node's datagram layer, not in batches by the addon. */
export const crashcartDgram: Starter = (lab, ns, o) => serve(lab, ns, o, true, ['--dhcp-js']);
/**
 * The real appliance under `node --single-threaded-gc`: V8 collects on the main thread instead of on helper threads,
 * which on one CPU preempt the main thread for a scheduler slice each (docs/perf/changes.md, "DHCP sockets").
 */
export const crashcartMainThreadGc: Starter = (lab, ns, o) => serve(lab, ns, o, true, [], ['--single-threaded-gc']);

/**
 * The real appliance with V8's allocation-site pretenuring on (V8's default, which `serve` turns off: server/system/v8-flags.ts):
 * the A/B row of that change.
 */
export const crashcartPretenuring: Starter = (lab, ns, o) => serve(lab, ns, o, true, [], ['--allocation-site-pretenuring']);
/** The real appliance from the TypeScript sources through tsx, as a checkout runs it (every other row runs the bundle: bench/shipped.ts). */
export const crashcartSources: Starter = (lab, ns, o) => serve(lab, ns, o, true, [], [], SOURCES_ENV);
/**
 * The real appliance with the per-packet DHCP event budget lifted (`dhcp_events_per_min` 0, set through the admin API
 * before the step): every DISCOVER, OFFER, REQUEST and ACK recorded, as before 2026-12-07 (server/events/event-budget.ts).
 */
export const crashcartEveryEvent: Starter = (lab, ns, o) => serve(lab, ns, o, true, [], [], SHIPPED_ENV, { dhcp_events_per_min: 0 });

/** The real appliance: `crashcart serve --iface s0 --dhcp full`, everything else it runs included. */
async function serve(
  lab: Lab,
  ns: string,
  o: StartOpts,
  warm: boolean,
  extra: string[] = [],
  nodeArgs: string[] = [],
  env: Readonly<Record<string, string>> = SHIPPED_ENV,
  settings: Readonly<Record<string, number>> | null = null,
): Promise<Running> {
  // serve refuses full mode without a microkernel (the readiness gate); no machine boots in this bench.
  const mk = await standInMicrokernel(o.dir);
  const flags = [
    ...['--iface', 's0', '--address', `${NET.server}/${NET.prefix}`, '--dhcp', 'full'],
    ...['--range', `${NET.start}-${NET.end}`, '--force', '--log-level', 'warn', '--microkernel', mk],
    ...['--dhcp-warm-start', warm ? 'on' : 'off'],
    ...extra,
  ];
  const a = await spawnAppliance(flags, {
    dataDir: path.join(o.dir, 'crashcart'),
    netns: lab.ns(ns),
    httpPort: 8026,
    testDefaults: false,
    env,
    // V8 prints its trace with C stdio, which a pipe buffers in blocks: line-buffered, the warm start's full
    // collection is in the output before the warm start reports done, not seconds later among the step's.
    wrap: [...(o.cpus ? ['taskset', '-c', o.cpus] : []), ...(o.traceGc ? ['stdbuf', '-oL'] : [])],
    nodeArgs: [
      ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []),
      ...(o.traceGc ? ['--trace-gc-nvp'] : []),
      ...nodeArgs,
    ],
  });
  lab.children.push(a.child);
  const token = await a.token();
  if (settings) {
    const body = JSON.stringify(settings);
    const h = ['-H', `Authorization: Bearer ${token}`, '-H', 'content-type: application/json'];
    lab.exec(ns, 'curl', ['-sf', '-X', 'PATCH', ...h, '--data-binary', body, `${a.adminUrl}/api/v1/settings`]);
  }
  const w = await waitFor('the DHCP warm start', 60_000, () => {
    const s = warmStartOf(lab, ns, a.adminUrl, token);
    return s && (s.state === 'done' || !warm) ? s : null;
  });
  // The pipe delivers the last trace lines on a later turn of our loop: let them arrive before the step is marked.
  if (o.traceGc) await new Promise((r) => setTimeout(r, 200));
  // V8 stamps each collection with the isolate's time: the step's are those after the last one before it.
  const lastGcMs = () => parseGcTrace(a.output()).reduce((m, e) => Math.max(m, e.atMs), -1);
  let stepFromMs = -1;
  return {
    pid: a.child.pid!,
    // Generous: with --cpu-prof the profile is written on the way out.
    stop: () => a.stop(15_000),
    markGc: () => {
      stepFromMs = lastGcMs();
    },
    note: async () =>
      `${nodeArgs.length ? `node ${nodeArgs.join(' ')} ` : ''}crashcart serve${extra.length ? ` ${extra.join(' ')}` : ''}${settings ? ` with ${JSON.stringify(settings)}` : ''} (whole appliance, ${env === SOURCES_ENV ? 'TypeScript sources through tsx' : 'the bundle'}), warm start ${warm ? `${w.exchanges} exchanges in ${Math.round(w.ms)} ms, ${Math.round(w.cpuMs)} ms CPU` : 'off'}` +
      (o.traceGc ? `; GC in the step: ${gcLine(summarizeGc(parseGcTrace(a.output()).filter((e) => e.atMs > stepFromMs)))}` : ''),
  };
}

/** The DHCP plugin alone on a real store (the kit's test/support/dhcp-plugin.ts): no planes, no core hooks. */
export const crashcartPlugin: Starter = async (lab, ns, o) => {
  const app = new DhcpPluginProc(
    lab,
    ns,
    {
      iface: 's0',
      ip: NET.server,
      prefix: NET.prefix,
      mode: 'full',
      range: { start: NET.start, end: NET.end },
      force: true,
      dataDir: path.join(o.dir, 'crashcart'),
      quietEvents: true,
      profileDir: o.profileDir,
      options: { reprobeMs: 0, leaseS: 3600 },
    },
    o.cpus,
  );
  const l = await app.started();
  if (l.type !== 'ready') throw new Error(`crashcart did not start: ${String(l.message)}`);
  return {
    pid: app.child.pid!,
    stop: async () => void (await app.stop()),
    note: async () => {
      const s = await app.stats();
      const f = (x: number | undefined) => (x ?? 0).toFixed(1);
      return (
        `DHCP plugin only; ${s.acks ?? 0} ACKs, ${s.lease_batches ?? 0} lease batches, ${s.lease_disk_syncs ?? 0} disk fdatasyncs ` +
        `(mean ${f(s.lease_disk_sync_mean_ms)} ms, max ${f(s.lease_disk_sync_max_ms)} ms), event loop delay p99 ${f(s.loop_delay_p99_ms)} ms, max ${f(s.loop_delay_max_ms)} ms`
      );
    },
  };
};

/** dnsmasq 2.90 as shipped by Debian; no ping check (it would add ~3 s per client and drop everything). */
export const dnsmasq: Starter = async (lab, ns, o) => {
  const [cmd, args] = pin(o.cpus, 'dnsmasq', [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=s0',
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-range=${NET.start},${NET.end},255.255.0.0,1h`,
    '--dhcp-lease-max=200000',
    '--dhcp-authoritative',
    `--dhcp-leasefile=${path.join(o.dir, 'dnsmasq.leases')}`,
    `--pid-file=${path.join(o.dir, 'dnsmasq.pid')}`,
  ]);
  const c = lab.spawnIn(ns, cmd, args);
  c.stderr?.resume();
  c.stdout?.resume();
  await waitFor('dnsmasq on 67', 10_000, () => lab.exec(ns, 'ss', ['-lun']).includes(':67 '));
  return { pid: c.pid!, stop: () => kill(c), note: async () => 'lease file rewritten per change, no fsync' };
};

/**
 * Kea 2.2 kea-dhcp4 with the memfile lease backend (appends, no fsync). `kea` answers with the options Crashcart's
 * replies carry; `keaMinimal` with Kea's own minimum (kea-config.ts says why both).
 */
export const kea: Starter = (lab, ns, o) => startKea(lab, ns, o, 'same');
export const keaMinimal: Starter = (lab, ns, o) => startKea(lab, ns, o, 'minimal');

async function startKea(lab: Lab, ns: string, o: StartOpts, replies: KeaReplies): Promise<Running> {
  const conf = path.join(o.dir, 'kea-dhcp4.json');
  fs.writeFileSync(conf, JSON.stringify(keaConfig(NET, o.dir, replies)));
  const [cmd, args] = pin(o.cpus, 'kea-dhcp4', ['-c', conf]);
  const c = lab.spawnIn(ns, cmd, args, { ...process.env, KEA_PIDFILE_DIR: o.dir, KEA_LOCKFILE_DIR: o.dir });
  c.stderr?.resume();
  c.stdout?.resume();
  await waitFor('kea on 67', 15_000, () => lab.exec(ns, 'ss', ['-lun']).includes(':67 '));
  const what = replies === 'same' ? "replies with Crashcart's options (3, 6, 28, 58, 59 added)" : 'minimal replies (53, 54, 51, 1, 61)';
  return { pid: c.pid!, stop: () => kill(c), note: async () => `memfile appends, no fsync; ${what}` };
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  await waitFor('server exit', 15_000, () => c.exitCode !== null || c.signalCode !== null).catch(() => {
    if (c.pid) process.kill(c.pid, 'SIGKILL');
  });
}
