/**
 * Where a concurrent TFTP round's time goes, per server: rounds of N atftp clients (blksize 1468, 1 MiB), or of one
 * curl process running N transfers at once (--curl), on the
 * bench's lab, captured with tcpdump on the server's veth, then read per transfer: when each RRQ arrived, RRQ ->
 * first answer, ACK -> next DATA (the server's turn), DATA -> next ACK (the client's), and each transfer's length;
 * plus the CPU each thread of the server process used in the round (/proc/PID/task). bench/tftp/run.ts gives the
 * ratios; this says why a row is what it is (docs/perf/changes.md, "TFTP pump threads").
 *
 *   node bin/run-ts.mjs bench/tftp/phases.ts [--clients 20] [--pinned] [--sequential | --curl] [--rounds 1]
 *     [--servers crashcart,dnsmasq,tftpd-hpa]
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, SERVER_IP, type Lab } from '../../test/tftp/helpers/lab.ts';
import { crashcart, dnsmasq, tftpdHpa, type StartServer } from './servers.ts';
import { requireTools } from '../require-tools.ts';
import { clientRun, curlArgs } from './clients.ts';
import { statCpuMs } from '../proc-stat.ts';
import { median, percentileOf } from '../percentile.ts';

const { values: v } = parseArgs({
  options: {
    clients: { type: 'string', default: '20' },
    pinned: { type: 'boolean', default: false },
    sequential: { type: 'boolean', default: false },
    curl: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    servers: { type: 'string', default: 'crashcart,dnsmasq,tftpd-hpa' },
  },
});
requireTools('tftp', ['atftp', 'curl', 'in.tftpd', 'dnsmasq', 'taskset', 'tcpdump']);
const STARTERS: Record<string, StartServer> = { crashcart, dnsmasq, 'tftpd-hpa': tftpdHpa };
const N = Number(v.clients);

/** CPU milliseconds per thread ("tid:name") of a process. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    out.set(`${tid}:${st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'))}`, statCpuMs(st));
  }
  return out;
}

const dist = (xs: number[]) =>
  `median ${median(xs).toFixed(2)}, p90 ${percentileOf(xs, 90).toFixed(2)}, p99 ${percentileOf(xs, 99).toFixed(2)}, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3)} ms`;

/** Per-transfer phases from `tcpdump -tt -n` lines: the server's transfer port answers the client's port. */
function phases(lines: string[]): string[] {
  const rrq = new Map<string, number>();
  const firstAnswer = new Map<string, number>();
  const lastData = new Map<string, number>();
  const lastAck = new Map<string, number>();
  /** The last packet either way of each client port. */
  const ends = new Map<string, number>();
  const ackToData: number[] = [];
  const dataToAck: number[] = [];
  let t0 = Infinity;
  for (const l of lines) {
    const m = /^(\d+\.\d+) IP (\S+)\.(\d+) > \S+\.(\d+): /.exec(l);
    if (!m) continue;
    const t = Number(m[1]) * 1000;
    t0 = Math.min(t0, t);
    const [src, sport, dport] = [m[2]!, m[3]!, m[4]!];
    ends.set(src === SERVER_IP ? dport : sport, t);
    if (src !== SERVER_IP) {
      if (dport === '69') {
        if (!rrq.has(sport)) rrq.set(sport, t);
        continue;
      }
      lastAck.set(sport, t);
      const d = lastData.get(sport);
      if (d !== undefined) dataToAck.push(t - d);
      lastData.delete(sport);
    } else {
      if (!firstAnswer.has(dport)) firstAnswer.set(dport, t);
      const a = lastAck.get(dport);
      if (a !== undefined) ackToData.push(t - a);
      lastAck.delete(dport);
      lastData.set(dport, t);
    }
  }
  return [
    `  RRQ arrivals after the first packet: ${dist([...rrq.values()].map((t) => t - t0))}`,
    `  RRQ -> first answer:                 ${dist([...rrq].map(([p, t]) => (firstAnswer.get(p) ?? NaN) - t))}`,
    `  ACK -> next DATA (server):           ${dist(ackToData)}`,
    `  DATA -> next ACK (client):           ${dist(dataToAck)}`,
    `  transfer, RRQ -> its last packet:    ${dist([...rrq].map(([p, t]) => (ends.get(p) ?? NaN) - t))}`,
  ];
}

async function one(lab: Lab, dir: string, name: string): Promise<void> {
  const srv = await STARTERS[name]!(lab, dir, v.pinned ? '0' : null);
  try {
    const atftp = ['--option', 'blksize 1468', '-g', '-r', 'm1', '-l', '/dev/null', SERVER_IP];
    const cpus = v.pinned ? '1' : null;
    const go = () => clientRun(lab, cpus, 'atftp', atftp);
    await go(); // warm-up: page cache, first-run costs
    const td = spawn('ip', ['netns', 'exec', lab.serverNs, 'tcpdump', '-i', 'vs', '-n', '-tt', '-B', '65536', 'udp'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    td.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise((r) => setTimeout(r, 500)); // tcpdump opens its socket
    const cpu0 = threadCpu(srv.pid);
    const t0 = Date.now();
    const rs: Awaited<ReturnType<typeof go>>[] = [];
    for (let k = 0; k < Number(v.rounds); k++) {
      if (v.curl) rs.push(await clientRun(lab, cpus, 'curl', curlArgs(N, 'm1')));
      else if (!v.sequential) rs.push(...(await Promise.all(Array.from({ length: N }, go))));
      else for (let i = 0; i < N; i++) rs.push(await go());
    }
    const wall = Date.now() - t0;
    const cpu1 = threadCpu(srv.pid);
    await new Promise((r) => setTimeout(r, 300));
    td.kill('SIGINT');
    await new Promise((r) => td.once('exit', r));
    if (rs.some((r) => r.code !== 0)) throw new Error(`${name}: ${v.curl ? 'curl' : 'atftp'} failed`);
    const busy = [...cpu1].map(([k, ms]) => [k, ms - (cpu0.get(k) ?? 0)] as const).filter(([, ms]) => ms > 0);
    console.log(
      `${name}: ${N} ${v.curl ? 'transfers of one curl' : 'clients'}${v.sequential ? ' one after the other' : ' at once'}, ${v.rounds} round(s) ${wall} ms`,
    );
    console.log(`  CPU by thread (ms, 10 ms ticks): ${busy.map(([k, ms]) => `${k} ${ms}`).join(', ') || 'under one tick'}`);
    for (const l of phases(text.split('\n'))) console.log(l);
  } finally {
    await srv.stop();
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-phases-'));
chmodSync(dir, 0o755); // tftpd-hpa serves as `nobody`
writeFileSync(path.join(dir, 'm1'), Buffer.alloc(1 << 20, 0x5a));
chmodSync(path.join(dir, 'm1'), 0o644);
const lab = await createLab('phases');
try {
  for (const name of v.servers.split(',')) {
    if (!STARTERS[name]) throw new Error(`unknown server ${name}; known: ${Object.keys(STARTERS).join(', ')}`);
    await one(lab, dir, name);
  }
} finally {
  await lab.destroy();
  rmSync(dir, { recursive: true, force: true });
}
