/**
 * TFTP benchmark: Crashcart against tftpd-hpa and dnsmasq in the same run, on
 * the same two-namespace veth lab (MTU 1500), measured with atftp (C, the one
 * client here that speaks windowsize). Prints a markdown table with ratios
 * and writes it to bench/tftp/RESULTS.md.
 *
 *   node bin/run-ts.mjs bench/tftp/run.ts [--quick]
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLab, REPO, run, SERVER_IP, type Lab } from '../../test/tftp/helpers/lab.ts';
import { crashcart, dnsmasq, tftpdHpa, type BenchServer } from './servers.ts';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;

interface Row {
  label: string;
  file: string;
  bytes: number;
  options: string[];
  /** Parallel clients. */
  clients: number;
  /** Timed repetitions (the median is kept). */
  reps: number;
}

const W16 = ['--option', 'blksize 1468', '--option', 'windowsize 16'];
const B1468 = ['--option', 'blksize 1468'];
const ROWS: Row[] = [
  { label: '1 MiB, blksize 512', file: 'm1', bytes: MiB, options: [], clients: 1, reps: 5 },
  { label: '1 MiB, blksize 1468', file: 'm1', bytes: MiB, options: B1468, clients: 1, reps: 5 },
  { label: '1 MiB, blksize 1468 + windowsize 16', file: 'm1', bytes: MiB, options: W16, clients: 1, reps: 5 },
  { label: '64 MiB, blksize 512', file: 'm64', bytes: 64 * MiB, options: [], clients: 1, reps: quick ? 1 : 2 },
  { label: '64 MiB, blksize 1468', file: 'm64', bytes: 64 * MiB, options: B1468, clients: 1, reps: quick ? 1 : 2 },
  { label: '64 MiB, blksize 1468 + windowsize 16', file: 'm64', bytes: 64 * MiB, options: W16, clients: 1, reps: quick ? 1 : 2 },
  { label: '20 concurrent x 1 MiB, blksize 1468', file: 'm1', bytes: MiB, options: B1468, clients: 20, reps: 3 },
  { label: '100 concurrent x 1 MiB, blksize 1468', file: 'm1', bytes: MiB, options: B1468, clients: 100, reps: 3 },
];

/** One timed round: `clients` atftp downloads in parallel; returns seconds, or throws on any failure. */
async function round(lab: Lab, row: Row): Promise<number> {
  const t0 = process.hrtime.bigint();
  const rs = await Promise.all(
    Array.from({ length: row.clients }, () =>
      lab.client('atftp', [...row.options, '-g', '-r', row.file, '-l', '/dev/null', SERVER_IP], 60_000),
    ),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const bad = rs.find((r) => r.code !== 0);
  if (bad) throw new Error(`atftp failed: ${bad.stderr.trim().split('\n').at(-1)}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-bench-'));
  chmodSync(dir, 0o755); // tftpd-hpa serves as `nobody`
  writeFileSync(path.join(dir, 'm1'), Buffer.alloc(MiB, 0x5a));
  await run('dd', ['if=/dev/urandom', `of=${path.join(dir, 'm64')}`, 'bs=1M', 'count=64', 'status=none']);
  for (const f of ['m1', 'm64']) chmodSync(path.join(dir, f), 0o644);
  const lab = await createLab('bench');
  const servers = [crashcart, tftpdHpa, dnsmasq];
  const results = new Map<string, Map<string, number | string>>(); // row -> server -> MiB/s or error
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    for (const start of servers) {
      const srv: BenchServer = await start(lab, dir);
      try {
        await round(lab, ROWS[0]!); // warm-up: page cache, first-run costs
        for (const row of ROWS) {
          const times: number[] = [];
          let err: string | null = null;
          for (let i = 0; i < row.reps && err === null; i++) {
            try {
              times.push(await round(lab, row));
            } catch (e) {
              err = e instanceof Error ? e.message : String(e);
            }
          }
          const cell = err ?? (row.bytes * row.clients) / MiB / median(times);
          if (!results.has(row.label)) results.set(row.label, new Map());
          results.get(row.label)!.set(srv.name, cell);
          process.stderr.write(
            `${srv.name.padEnd(10)} ${row.label.padEnd(42)} ${typeof cell === 'number' ? cell.toFixed(1) + ' MiB/s' : cell}\n`,
          );
        }
      } finally {
        await srv.stop();
      }
    }
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (v: number | string | undefined) => (typeof v === 'number' ? v.toFixed(1) : `failed (${v ?? 'not run'})`);
  const lines = [`| row | Crashcart MiB/s | tftpd-hpa MiB/s | dnsmasq MiB/s | Crashcart / best other |`, `|---|---:|---:|---:|---:|`];
  for (const row of ROWS) {
    const r = results.get(row.label)!;
    const ours = r.get('Crashcart');
    const others = ['tftpd-hpa', 'dnsmasq'].map((n) => r.get(n)).filter((v): v is number => typeof v === 'number');
    const best = others.length ? Math.max(...others) : NaN;
    const ratio = typeof ours === 'number' && Number.isFinite(best) ? `${(ours / best).toFixed(2)}x` : 'n/a';
    lines.push(`| ${row.label} | ${fmt(ours)} | ${fmt(r.get('tftpd-hpa'))} | ${fmt(r.get('dnsmasq'))} | ${ratio} |`);
  }
  const table = lines.join('\n');
  const versions = (await run('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'tftpd-hpa', 'dnsmasq-base', 'atftp'])).stdout
    .trim()
    .split('\n')
    .join(', ');
  const doc = `# TFTP benchmark results

Generated by \`node bin/run-ts.mjs bench/tftp/run.ts\` on ${new Date().toISOString().slice(0, 10)} (${cpu}, ${os.cpus().length} cores shared with other work, Node ${process.version}).
Lab: two network namespaces joined by a veth pair, MTU 1500; each server in turn listens on 10.99.0.1:69 with the same
root; the client is atftp (${versions}) writing to /dev/null. Figures are MiB/s of file data (medians of the
repetitions; concurrent rows count all clients' bytes over the wall time of the whole round, including process start).
tftpd-hpa and dnsmasq do not implement RFC 7440, so on windowsize rows they answer without it and run lock-step.

${table}
`;
  writeFileSync(path.join(REPO, 'bench/tftp/RESULTS.md'), doc);
  process.stdout.write(table + '\n');
}

await main();
