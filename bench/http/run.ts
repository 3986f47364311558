/**
 * HTTP asset benchmark: Crashcart's node plane (sendfile(2) through native/sendfile.c, and with `--http-copy`)
 * next to nginx (sendfile) and a bare node:http server
 * (bare-node.ts) on loopback, same files, same clients (curl, C), in the same run, the servers taking
 * turns in every repetition. Rows: the microkernel initrd
 * whole and in Range pieces, by 1 and by 50 clients at once, and an OS image too large for the asset
 * cache (streamed). Figures are MB/s (10^6 bytes) of body over wall time; the goal per row is at least
 * 0.8x nginx or 1.1 GB/s (10 GbE line rate), whichever is lower. Writes bench/http/RESULTS.md.
 *
 *   node bin/run-ts.mjs bench/http/run.ts [--reps 5] [--rows 1,2,...] [--image-mib 512] [--out FILE]
 *     [--profile DIR] (Crashcart under --cpu-prof; the profile lands in DIR when it stops)
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { startBareNode, startCrashcart, startNginx, type HttpServer } from './servers.ts';
import { requireTools } from '../require-tools.ts';
import { buildShippedBundle, SHIPPED_NOTE } from '../shipped.ts';
import { procCpuMs } from '../proc-stat.ts';

const { values: v } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    rows: { type: 'string' },
    'image-mib': { type: 'string', default: '512' },
    out: { type: 'string', default: path.join(import.meta.dirname, 'RESULTS.md') },
    profile: { type: 'string' },
  },
});
requireTools('http', ['nginx', 'curl']);
const MiB = 1024 * 1024;

/** One client's requests: [start, end] byte ranges (inclusive), or null for the whole file. */
type Plan = ([number, number] | null)[];

interface Row {
  label: string;
  file: string;
  /** Per client, what it asks for (one keep-alive connection per client). */
  plans: (size: number) => Plan[];
}

const ranges = (size: number, piece: number, from = 0, count = Infinity): [number, number][] => {
  const out: [number, number][] = [];
  for (let a = from; a < size && out.length < count; a += piece) out.push([a, Math.min(size, a + piece) - 1]);
  return out;
};

const ROWS: Row[] = [
  { label: 'initrd.img, 1 client, whole file x 5', file: 'initrd.img', plans: () => [[null, null, null, null, null]] },
  { label: 'initrd.img, 50 clients, whole file each', file: 'initrd.img', plans: () => Array.from({ length: 50 }, () => [null]) },
  {
    label: 'initrd.img, 1 client, Range 8 MiB pieces x 3 passes',
    file: 'initrd.img',
    plans: (s) => [[...ranges(s, 8 * MiB), ...ranges(s, 8 * MiB), ...ranges(s, 8 * MiB)]],
  },
  {
    label: 'initrd.img, 50 clients, Range 8 MiB pieces (4 each)',
    file: 'initrd.img',
    plans: (s) => Array.from({ length: 50 }, (_, i) => ranges(s, 8 * MiB, ((i * 3) % 6) * 8 * MiB, 4)),
  },
  { label: 'OS image (streamed, over the cache limit), 1 client, whole file', file: 'image.raw', plans: () => [[null]] },
  {
    label: 'OS image (streamed), 50 clients, Range 32 MiB each',
    file: 'image.raw',
    plans: (s) =>
      Array.from({ length: 50 }, (_, i) => [[(i * 32 * MiB) % (s - 32 * MiB), ((i * 32 * MiB) % (s - 32 * MiB)) + 32 * MiB - 1]]),
  },
];

/** CPU ms of a process and its live descendants (nginx workers are children of the master). */
function treeCpuMs(pid: number): number {
  let ms = 0;
  try {
    ms += procCpuMs(`/proc/${pid}/stat`);
    for (const t of fs.readdirSync(`/proc/${pid}/task`))
      for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) ms += treeCpuMs(Number(c));
  } catch {
    /* exited */
  }
  return ms;
}

/** One curl per client, its requests on one connection; resolves body bytes, or throws on a wrong status or size. */
function client(base: string, url: string, plan: Plan, size: number): Promise<number> {
  const args = ['-s', '--http1.1'];
  let want = 0;
  plan.forEach((r, i) => {
    if (i > 0) args.push('--next', '-s', '--http1.1');
    if (r) args.push('-r', `${r[0]}-${r[1]}`);
    args.push('-o', '/dev/null', '-w', '%{http_code} %{size_download}\\n', `${base}${url}`);
    want += r ? r[1] - r[0] + 1 : size;
  });
  return new Promise((resolve, reject) => {
    const c = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => {
      const lines = out.trim().split('\n');
      const got = lines.reduce((n, l) => n + Number(l.split(' ')[1] ?? 0), 0);
      const bad = lines.find((l, i) => !l.startsWith(plan[i] ? '206 ' : '200 '));
      if (code !== 0 || bad !== undefined || got !== want) reject(new Error(`curl exit ${code}, ${bad ?? ''} ${got}/${want} bytes`));
      else resolve(got);
    });
  });
}

interface Cell {
  mbs: number;
  cpuMsPerGB: number;
}

/** One repetition of `row` against `srv`: MB/s, server CPU ms and body bytes. */
async function once(srv: HttpServer, row: Row, size: number): Promise<{ mbs: number; cpuMs: number; bytes: number }> {
  const c0 = treeCpuMs(srv.pid);
  const t0 = performance.now();
  const got = await Promise.all(row.plans(size).map((p) => client(srv.base, srv.url(row.file), p, size)));
  const s = (performance.now() - t0) / 1000;
  const bytes = got.reduce((a, x) => a + x, 0);
  return { mbs: bytes / 1e6 / s, cpuMs: treeCpuMs(srv.pid) - c0, bytes };
}

/**
 * `reps` repetitions of `row` on every server, the servers taking turns within each repetition, so load
 * from other jobs that comes and goes falls on all of them alike. Per server: the median MB/s and the CPU
 * per GB over all repetitions.
 */
async function measure(servers: HttpServer[], row: Row, size: number, reps: number): Promise<Cell[]> {
  const runs = servers.map(() => [] as { mbs: number; cpuMs: number; bytes: number }[]);
  for (let i = 0; i < reps; i++) for (const [k, srv] of servers.entries()) runs[k]!.push(await once(srv, row, size));
  return runs.map((r) => {
    const rates = r.map((x) => x.mbs).sort((a, b) => a - b);
    const bytes = r.reduce((a, x) => a + x.bytes, 0);
    return { mbs: rates[Math.floor(rates.length / 2)]!, cpuMsPerGB: r.reduce((a, x) => a + x.cpuMs, 0) / (bytes / 1e9) };
  });
}

async function main(): Promise<void> {
  buildShippedBundle();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-http-bench-'));
  fs.chmodSync(dir, 0o755);
  const files: Record<string, string> = {};
  const realInitrd = path.join(REPO_ROOT, 'build', 'out', 'microkernel', 'initrd.img');
  files['initrd.img'] = path.join(dir, 'initrd.img');
  if (fs.existsSync(realInitrd)) fs.copyFileSync(realInitrd, files['initrd.img']);
  else fill(files['initrd.img'], 51);
  files.vmlinuz = path.join(dir, 'vmlinuz');
  fill(files.vmlinuz, 8);
  files['image.raw'] = path.join(dir, 'image.raw');
  fill(files['image.raw'], Number(v['image-mib']));
  for (const p of Object.values(files)) fs.chmodSync(p, 0o644);
  const rows = v.rows ? v.rows.split(',').map((i) => ROWS[Number(i) - 1]!) : ROWS;
  const servers = [
    await startCrashcart(dir, files, v.profile),
    await startNginx(dir, files),
    await startBareNode(dir, files),
    await startCrashcart(dir, files, undefined, true),
  ];
  const lines: string[] = [];
  const t0 = Date.now();
  try {
    for (const row of rows) {
      const size = fs.statSync(files[row.file]!).size;
      // Warm-up: page cache, Crashcart's asset cache, JIT.
      for (const s of servers) await client(s.base, s.url(row.file), [null], size);
      const [ours, ref, bare, copy] = (await measure(servers, row, size, Number(v.reps))) as [Cell, Cell, Cell, Cell];
      const goal = Math.min(0.8 * ref.mbs, 1100);
      const line = `| ${row.label} | ${ours.mbs.toFixed(0)} | ${ref.mbs.toFixed(0)} | ${(ours.mbs / ref.mbs).toFixed(2)}x | ${goal.toFixed(0)}: ${ours.mbs >= goal ? 'met' : 'not met'} | ${ours.cpuMsPerGB.toFixed(0)} / ${ref.cpuMsPerGB.toFixed(0)} | ${copy.mbs.toFixed(0)} (${(copy.mbs / ref.mbs).toFixed(2)}x), ${copy.cpuMsPerGB.toFixed(0)} ms/GB | ${bare.mbs.toFixed(0)} (${(bare.mbs / ref.mbs).toFixed(2)}x), ${bare.cpuMsPerGB.toFixed(0)} ms/GB |`;
      process.stderr.write(`${line}\n`);
      lines.push(line);
    }
  } finally {
    for (const s of servers) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const table = [
    '| row | Crashcart MB/s | nginx MB/s | ratio | goal (min of 0.8x nginx, 1100 MB/s) | server CPU ms per GB (ours / nginx) | Crashcart --http-copy MB/s (/ nginx), CPU | bare node:http MB/s (/ nginx), CPU |',
    '|---|---:|---:|---:|---|---|---|---|',
    ...lines,
  ].join('\n');
  const doc = `# HTTP asset benchmark results

Generated by \`node bin/run-ts.mjs bench/http/run.ts\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} cores shared with other work, Node ${process.version}; ${Math.round((Date.now() - t0) / 60000)} min, load average at the end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}).
Loopback, one curl process per client (HTTP/1.1, one keep-alive connection per client), body to /dev/null; each row runs
Crashcart's \`crashcart serve\` node plane (\`/mk/initrd.img\`, \`/images/bench/image.raw\`; bodies through its sendfile(2)
addon, \`native/sendfile.c\`), the same with \`--http-copy\` (bodies copied from memory, or streamed past the asset cache), and nginx
(Debian 1.22, \`sendfile on\`, \`worker_processes auto\`) on the same files, and a bare node:http server holding every file
in memory and answering with \`res.end()\` of a Buffer slice (\`bench/http/bare-node.ts\`: the most Node does without
sendfile), the servers taking turns in each of ${v.reps} repetitions (median MB/s; CPU over all of them), after a warm-up request.
${SHIPPED_NOTE}.
initrd.img is the microkernel build's initrd (${(fs.existsSync(realInitrd) ? fs.statSync(realInitrd).size / 1e6 : 53.5).toFixed(1)} MB) when present; the OS image is ${v['image-mib']} MiB of random bytes.

${table}
`;
  fs.writeFileSync(v.out, doc);
  process.stdout.write(`${table}\n`);
}

/** Write `mib` MiB of random bytes (incompressible, so nothing on the way can shortcut it). */
function fill(file: string, mib: number): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < mib; i++) fs.writeSync(fd, randomFillSync(chunk));
  fs.closeSync(fd);
}

await main();
