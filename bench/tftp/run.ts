/**
 * TFTP benchmark: Crashcart against tftpd-hpa and dnsmasq in the same run, on
 * the same two-namespace veth lab (MTU 1500), measured with atftp (C, the one
 * client here that speaks windowsize) and, for concurrent transfers, also with
 * one curl process running them all (libcurl's TFTP client), twice: pinned
 * (server under `taskset -c 0`, clients under `taskset -c 1`, like the
 * independent harness) and unpinned.
 * Prints a markdown table with ratios and writes it to bench/tftp/RESULTS.md.
 *
 *   node bin/run-ts.mjs bench/tftp/run.ts [--quick] [--modes pinned,unpinned] [--rows 1,2,...] [--reps N] [--passes P]
 * A row runs in P passes (default 3); each pass starts every server afresh in turn, the order rotating from pass to
 * pass, and runs its share of the row's repetitions. A burst of load from another job then lands in one pass of
 * each server, not in all of one server's rounds; the table gives the ratio per pass beside the median's.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, REPO, run, SERVER_IP, type Lab } from '../../test/tftp/helpers/lab.ts';
import { crashcart, crashcartJs, dnsmasq, tftpdHpa, type StartServer } from './servers.ts';
import { requireTools } from '../require-tools.ts';
import { clientRun, curlArgs } from './clients.ts';
import { coresSince, procCpuMs, readCoreTimes, type CoreTimes } from '../proc-stat.ts';
import { median } from '../percentile.ts';

const { values: v } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'pinned,unpinned' },
    rows: { type: 'string' },
    reps: { type: 'string' },
    passes: { type: 'string', default: '3' },
    out: { type: 'string', default: path.join(REPO, 'bench/tftp/RESULTS.md') },
  },
});
requireTools('tftp', ['atftp', 'curl', 'in.tftpd', 'dnsmasq', 'taskset']);
const MiB = 1024 * 1024;
const PASSES = Number(v.passes);
if (!Number.isInteger(PASSES) || PASSES < 1) throw new Error(`--passes ${v.passes}: give a whole number of passes, 1 or more`);

interface Row {
  label: string;
  file: string;
  bytes: number;
  options: string[];
  /** Parallel transfers. */
  clients: number;
  /** An atftp process per transfer, or one curl process running them all (--parallel). */
  client: 'atftp' | 'curl';
  /** Timed repetitions (the median is kept). */
  reps: number;
}

interface Mode {
  name: string;
  server: string | null;
  client: string | null;
}
const MODES: Record<string, Mode> = {
  pinned: { name: 'pinned (server on CPU 0, clients on CPU 1)', server: '0', client: '1' },
  unpinned: { name: 'unpinned', server: null, client: null },
};

const W16 = ['--option', 'blksize 1468', '--option', 'windowsize 16'];
const B1468 = ['--option', 'blksize 1468'];
const big = v.quick ? 2 : 3;
const ROWS: Row[] = [
  { label: '1 MiB, blksize 512', file: 'm1', bytes: MiB, options: [], clients: 1, client: 'atftp', reps: 5 },
  { label: '1 MiB, blksize 1468', file: 'm1', bytes: MiB, options: B1468, clients: 1, client: 'atftp', reps: 5 },
  { label: '1 MiB, blksize 1468 + windowsize 16', file: 'm1', bytes: MiB, options: W16, clients: 1, client: 'atftp', reps: 5 },
  { label: '64 MiB, blksize 512', file: 'm64', bytes: 64 * MiB, options: [], clients: 1, client: 'atftp', reps: big },
  { label: '64 MiB, blksize 1468', file: 'm64', bytes: 64 * MiB, options: B1468, clients: 1, client: 'atftp', reps: big },
  { label: '64 MiB, blksize 1468 + windowsize 16', file: 'm64', bytes: 64 * MiB, options: W16, clients: 1, client: 'atftp', reps: big },
  // A process per transfer: the round is mostly the clients' process starts on the client core (docs/perf/changes.md).
  {
    label: '20 concurrent x 1 MiB, blksize 1468, an atftp process each',
    file: 'm1',
    bytes: MiB,
    options: B1468,
    clients: 20,
    client: 'atftp',
    reps: 9,
  },
  {
    label: '100 concurrent x 1 MiB, blksize 1468, an atftp process each',
    file: 'm1',
    bytes: MiB,
    options: B1468,
    clients: 100,
    client: 'atftp',
    reps: 9,
  },
  // One process: every transfer starts at once, and the round measures the servers.
  {
    label: '20 concurrent x 1 MiB, blksize 1468, one curl process',
    file: 'm1',
    bytes: MiB,
    options: B1468,
    clients: 20,
    client: 'curl',
    reps: 9,
  },
  {
    label: '100 concurrent x 1 MiB, blksize 1468, one curl process',
    file: 'm1',
    bytes: MiB,
    options: B1468,
    clients: 100,
    client: 'curl',
    reps: 9,
  },
];
// The last one is not a peer: Crashcart with transfers in JavaScript, to show what the native pump changed.
const SERVERS: StartServer[] = [crashcart, tftpdHpa, dnsmasq, crashcartJs];
const NAMES = ['Crashcart', 'tftpd-hpa', 'dnsmasq', 'Crashcart --tftp-js'];

/** One timed round: the row's transfers in parallel; returns seconds, or throws on any failure. */
async function round(lab: Lab, row: Row, cpus: string | null): Promise<number> {
  if (row.client === 'curl') return curlRound(lab, row, cpus);
  const t0 = process.hrtime.bigint();
  const atftp = [...row.options, '-g', '-r', row.file, '-l', '/dev/null', SERVER_IP];
  const rs = await Promise.all(Array.from({ length: row.clients }, () => clientRun(lab, cpus, 'atftp', atftp, 120_000)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const failed = rs.filter((r) => r.code !== 0);
  if (failed.length > 0)
    throw new Error(`${failed.length} of ${row.clients} atftp failed: ${failed[0]!.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return s;
}

/** One curl process running all of the row's transfers at once, with every transfer's byte count checked. */
async function curlRound(lab: Lab, row: Row, cpus: string | null): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await clientRun(lab, cpus, 'curl', curlArgs(row.clients, row.file), 60_000);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const short = r.stdout
    .trim()
    .split('\n')
    .filter((x) => Number(x) !== row.bytes).length;
  if (r.code !== 0 || short > 0)
    throw new Error(
      `${short} of ${row.clients} curl transfers incomplete (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`,
    );
  return s;
}

/**
 * MiB/s (of the median round), the server's CPU microseconds per DATA block, the MiB/s of each pass's median round,
 * and each CPU's busy and steal share of the rounds' wall time (percent, the passes' mean); or why the row failed.
 */
type Cell = { mibs: number; cpuUsPerBlock: number; passMibs: number[]; busy: number[]; steal: number[] } | string;

/** One pass of one server: its rounds' seconds, the server's CPU over them, and every CPU's time over them; or why it failed. */
type Pass = { rounds: number[]; cpuMs: number; wallMs: number; cores: CoreTimes[] } | string;

/** CPU time (ms) of a process and its reaped children: utime + stime + cutime + cstime. */
const cpuMs = (pid: number): number => procCpuMs(`/proc/${pid}/stat`, true);

const blocksOf = (row: Row) => {
  const i = row.options.indexOf('blksize 1468');
  return (Math.floor(row.bytes / (i >= 0 ? 1468 : 512)) + 1) * row.clients;
};

async function measure(lab: Lab, start: StartServer, dir: string, row: Row, mode: Mode, reps: number): Promise<Pass> {
  const srv = await start(lab, dir, mode.server);
  try {
    await round(lab, { ...ROWS[0]!, clients: 1 }, mode.client); // warm-up: page cache, first-run costs
    const rounds: number[] = [];
    await new Promise((r) => setTimeout(r, 50)); // tftpd-hpa reaps its warm-up child
    const c0 = cpuMs(srv.pid);
    const k0 = readCoreTimes();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) rounds.push(await round(lab, row, mode.client));
    const wallMs = performance.now() - t0;
    const cores = coresSince(k0);
    await new Promise((r) => setTimeout(r, 50));
    return { rounds, cpuMs: cpuMs(srv.pid) - c0, wallMs, cores };
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await srv.stop();
  }
}

/** MiB/s of file data in a row's median round. */
const mibsOf = (row: Row, rounds: number[]) => (row.bytes * row.clients) / MiB / median(rounds);

/** A server's passes of a row as one cell: the first failure, or the figures of every round. */
function cellOf(row: Row, passes: Pass[]): Cell {
  const failed = passes.findIndex((p) => typeof p === 'string');
  if (failed >= 0) return `pass ${failed + 1}: ${passes[failed] as string}`;
  const ok = passes as Exclude<Pass, string>[];
  const rounds = ok.flatMap((p) => p.rounds);
  const cpu = ok.reduce((a, p) => a + p.cpuMs, 0);
  const share = (k: 'busy' | 'steal') =>
    ok[0]!.cores.map((_, i) => (100 * ok.reduce((a, p) => a + p.cores[i]![k] / p.wallMs, 0)) / ok.length);
  return {
    mibs: mibsOf(row, rounds),
    cpuUsPerBlock: (cpu * 1000) / (blocksOf(row) * rounds.length),
    passMibs: ok.map((p) => mibsOf(row, p.rounds)),
    busy: share('busy'),
    steal: share('steal'),
  };
}

/** Ours against the best other server of the same pass, lowest and highest over the passes: `0.93-1.12x`. */
function passRange(ours: Cell | undefined, others: (Cell | undefined)[]): string {
  if (typeof ours !== 'object') return 'n/a';
  const ok = others.filter((c) => typeof c === 'object');
  if (ok.length === 0) return 'n/a';
  const ratios = ours.passMibs.map((m, i) => m / Math.max(...ok.map((c) => c.passMibs[i] ?? 0)));
  return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x`;
}

function table(rows: Row[], results: Map<string, Cell[]>): string {
  const fmt = (c: Cell | undefined) => (typeof c === 'object' ? c.mibs.toFixed(1) : `failed (${c ?? 'not run'})`);
  // tftpd-hpa serves each transfer from a forked child its parent does not account for: no figure.
  const cpu = (c: Cell | undefined, k: number) => (typeof c === 'object' && NAMES[k] !== 'tftpd-hpa' ? c.cpuUsPerBlock.toFixed(1) : '-');
  // Each CPU's busy share of the rounds (and the hypervisor's steal, when any): which side the row waited for.
  const cores = (c: Cell | undefined) =>
    typeof c === 'object'
      ? c.busy.map((b) => b.toFixed(0)).join(' / ') +
        (Math.max(...c.steal) >= 1 ? ` (steal ${c.steal.map((x) => x.toFixed(0)).join(' / ')})` : '')
      : '-';
  const lines = [
    `| row | Crashcart MiB/s | tftpd-hpa MiB/s | dnsmasq MiB/s | Crashcart / best other | per pass, min-max | server CPU per block, µs (ours / tftpd-hpa / dnsmasq) | CPUs busy, % (CPU 0 / CPU 1): ours; dnsmasq | Crashcart --tftp-js MiB/s (/ best other), CPU µs/block |`,
    `|---|---:|---:|---:|---:|---|---|---|---|`,
  ];
  for (const row of rows) {
    const r = results.get(row.label);
    if (!r) continue;
    const [ours, hpa, dnsmasq, js] = r;
    const nums = [hpa, dnsmasq].filter((x) => typeof x === 'object').map((x) => x.mibs);
    const best = nums.length ? Math.max(...nums) : NaN;
    const ratioOf = (c: Cell | undefined) => (typeof c === 'object' && Number.isFinite(best) ? `${(c.mibs / best).toFixed(2)}x` : 'n/a');
    const jsCell = js === undefined ? 'not run' : `${fmt(js)} (${ratioOf(js)}), ${cpu(js, 3)}`;
    lines.push(
      `| ${row.label} | ${fmt(ours)} | ${fmt(hpa)} | ${fmt(dnsmasq)} | ${ratioOf(ours)} | ${passRange(ours, [hpa, dnsmasq])} | ${r
        .slice(0, 3)
        .map((c, k) => cpu(c, k))
        .join(' / ')} | ${cores(ours)}; ${cores(dnsmasq)} | ${jsCell} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-bench-'));
  chmodSync(dir, 0o755); // tftpd-hpa serves as `nobody`
  writeFileSync(path.join(dir, 'm1'), Buffer.alloc(MiB, 0x5a));
  await run('dd', ['if=/dev/urandom', `of=${path.join(dir, 'm64')}`, 'bs=1M', 'count=64', 'status=none']);
  for (const f of ['m1', 'm64']) chmodSync(path.join(dir, f), 0o644);
  const rows = v.rows ? v.rows.split(',').map((i) => ROWS[Number(i) - 1]!) : ROWS;
  const modes = v.modes.split(',').map((m) => {
    const mode = MODES[m];
    if (!mode) throw new Error(`unknown mode ${m}; known: ${Object.keys(MODES).join(', ')}`);
    return mode;
  });
  const lab = await createLab('bench');
  const tables: string[] = [];
  const t0 = Date.now();
  try {
    for (const mode of modes) {
      const results = new Map<string, Cell[]>();
      for (const row of rows) {
        const passes: Pass[][] = SERVERS.map(() => []);
        const reps = Math.max(1, Math.ceil((v.reps ? Number(v.reps) : row.reps) / PASSES));
        for (let pass = 0; pass < PASSES; pass++)
          for (let j = 0; j < SERVERS.length; j++) {
            const k = (j + pass) % SERVERS.length; // each pass starts with another server
            const p = await measure(lab, SERVERS[k]!, dir, row, mode, reps);
            passes[k]!.push(p);
            process.stderr.write(
              `${mode.name.split(' ')[0]!.padEnd(9)} pass ${pass + 1}/${PASSES} ${NAMES[k]!.padEnd(10)} ${row.label.padEnd(42)} ${typeof p === 'object' ? `${mibsOf(row, p.rounds).toFixed(1)} MiB/s, rounds ${p.rounds.map((t) => (t * 1000).toFixed(0)).join(' ')} ms` : p}\n`,
            );
          }
        const cells = passes.map((p) => cellOf(row, p));
        results.set(row.label, cells);
      }
      tables.push(`### ${mode.name}\n\n${table(rows, results)}`);
    }
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const versions = (await run('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'tftpd-hpa', 'dnsmasq-base', 'atftp'])).stdout
    .trim()
    .split('\n')
    .join(', ');
  const curlVersion = (await run('curl', ['--version'])).stdout.split(' ').slice(0, 2).join(' ');
  const doc = `# TFTP benchmark results

Generated by \`node bin/run-ts.mjs bench/tftp/run.ts\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores shared with other work, Node ${process.version}; ${Math.round((Date.now() - t0) / 60000)} min, load average at the end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}).
Lab: two network namespaces joined by a veth pair, MTU 1500; each server in turn listens on 10.99.0.1:69 with the same
root; the client is atftp (${versions}) writing to /dev/null, and on the last two rows one curl process
running every transfer at once (${curlVersion}). Figures are MiB/s of file data (medians of the repetitions;
concurrent rows count all transfers' bytes over the wall time of the whole round, including the clients' process
starts: 20 or 100 of them on the atftp rows, where they are most of the round).
Each row runs in ${PASSES} passes; a pass starts each server afresh in turn (the order rotating from pass to pass) and runs
its share of the row's repetitions (\`--reps\` or the row's own, split over the passes), so a burst of load from
another job lands in one pass of each server. "Per pass" is ours over the best other server's in the same pass.
tftpd-hpa and dnsmasq do not implement RFC 7440, so on windowsize rows they answer without it and run lock-step.
"CPUs busy" is each CPU's busy share (user, system, interrupts) of the rounds' wall time, the passes' mean, from
/proc/stat: pinned, CPU 0 is the server's and CPU 1 the clients'; a CPU near 100 % is the one the row waited for.
"steal" is time the hypervisor gave to other guests, shown when it reached 1 %.

${tables.join('\n\n')}
`;
  writeFileSync(v.out, doc);
  process.stdout.write(tables.join('\n\n') + '\n');
}

await main();
