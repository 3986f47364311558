/**
 * DHCP benchmark: perfdhcp DORA sweep (relayed, distinct clients) against
 * Crashcart, dnsmasq and Kea (memfile) on the same namespace setup, then the
 * codec fuzz. Prints a markdown table and writes bench/dhcp/RESULTS.md.
 * `node bin/run-ts.mjs bench/dhcp/run.ts [--seconds 4] [--rates 500,1000,...] [--only crashcart|dnsmasq|kea] [--no-fuzz]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../../test/support/netns-lab.ts';
import { NET, startCrashcart, startDnsmasq, startKea, type Running } from './servers.ts';
import { perfdhcp, type PerfResult } from './perfdhcp.ts';
import { runFuzz } from './fuzz.ts';

const argv = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? d) : d;
};
const SECONDS = Number(opt('seconds', '4'));
const RATES = opt('rates', '250,500,1000,2000,4000,6000,8000,9000,10000,12000').split(',').map(Number);
/** A point "drops" when more than this share of exchanges got no answer within perfdhcp's 1 s drop time. */
const DROP_TOLERANCE = 0;
/** Stop a server's sweep after this many points with more than 5 % drops (it is saturated). */
const SATURATED_POINTS = 2;

type Starter = (lab: Lab, ns: string, dir: string) => Promise<Running>;
const SERVERS: [string, Starter][] = [
  ['Crashcart', startCrashcart],
  ['dnsmasq', startDnsmasq],
  ['Kea (memfile)', startKea],
];

interface Summary {
  name: string;
  best: PerfResult | null;
  firstDrop: PerfResult | null;
  points: PerfResult[];
  note: string;
}

async function sweep(lab: Lab, name: string, start: Starter, root: string): Promise<Summary> {
  const s: Summary = { name, best: null, firstDrop: null, points: [], note: '' };
  let saturated = 0;
  for (const rate of RATES) {
    const dir = fs.mkdtempSync(path.join(root, 'pt-'));
    const srv = await start(lab, 'srv', dir);
    // Distinct clients: more MACs than exchanges, so (nearly) every DORA creates a new lease.
    const r = await perfdhcp(lab, 'perf', NET.relay, NET.server, rate, SECONDS, rate * SECONDS * 4, rate, ['-x', 't']);
    s.note = await srv.note().catch(() => s.note);
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    s.points.push(r);
    const dropShare = r.sent > 0 ? r.drops / r.sent : 1;
    console.error(
      `${name} @ ${rate}/s: achieved ${r.rate}/s, drops ${r.drops}/${r.sent}, p50 ${r.p50?.toFixed(2)} ms, p99 ${r.p99?.toFixed(2)} ms`,
    );
    // Consecutive saturated points end the sweep; one noisy point on a shared machine does not.
    saturated = dropShare > 0.05 ? saturated + 1 : 0;
    if (saturated >= SATURATED_POINTS) break;
  }
  // Best: the highest target served with zero drops; drops start at the first target above it that dropped.
  for (const p of s.points) if (p.drops <= DROP_TOLERANCE && p.acks > 0 && (!s.best || p.target > s.best.target)) s.best = p;
  s.firstDrop = s.points.find((p) => p.drops > DROP_TOLERANCE && p.target > (s.best?.target ?? 0)) ?? null;
  return s;
}

const f = (n: number | null | undefined, d = 0) => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(d));

function table(rows: Summary[]): string {
  const ref = rows.find((r) => r.name === 'dnsmasq')?.best?.rate ?? null;
  const lines = [
    `| server | highest rate with zero drops (DORA/s) | p50 / p99 at that rate (ms) | drops start at (target DORA/s, achieved, drops) | ratio to dnsmasq | notes |`,
    `|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    const b = r.best;
    const d = r.firstDrop;
    lines.push(
      `| ${r.name} | ${f(b?.rate)} (target ${f(b?.target)}) | ${f(b?.p50, 2)} / ${f(b?.p99, 2)} | ${d ? `${d.target}: ${f(d.rate)} achieved, ${d.drops}/${d.sent} dropped` : 'no drops in sweep'} | ${ref && b ? `${(b.rate / ref).toFixed(2)}x` : 'n/a'} | ${r.note} |`,
    );
  }
  return lines.join('\n');
}

const lab = new Lab('bench', 'dhcp');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-bench-'));
const rows: Summary[] = [];
try {
  lab.addSwitch();
  lab.addNs('srv');
  lab.addNs('perf');
  lab.plug('srv', 's0', `${NET.server}/${NET.prefix}`);
  lab.plug('perf', 'e0', `${NET.relay}/${NET.prefix}`);
  const only = opt('only', '').toLowerCase();
  for (const [name, start] of SERVERS) if (!only || name.toLowerCase().startsWith(only)) rows.push(await sweep(lab, name, start, root));
} finally {
  await lab.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}
const cpus = os.cpus();
let md = `# DHCP benchmark results\n\n`;
md += `perfdhcp (Kea ${'2.2'} tools) as a relay (giaddr ${NET.relay}, source port 67), ${SECONDS} s per point, distinct clients, full DORA; `;
md += `each point on a freshly started server with an empty lease store, all three servers in the same namespace setup (veth + bridge).\n`;
md += `Machine: ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, shared with other jobs (load average at the end: ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ')}), so treat absolute numbers as a floor.\n`;
md += `Rates are completed DORA exchanges (ACKs) per second of sending; latency is per exchange (DISCOVER->OFFER and REQUEST->ACK) from perfdhcp \`-x t\`.\n`;
md += `Crashcart fsyncs every ACKed lease before the ACK leaves (group commit); dnsmasq and Kea memfile do not fsync.\n`;
md += `Reference figures from the issue (same setup, quieter machine): dnsmasq ~425 DORA/s at zero drops, Kea memfile ~9,000.\n\n`;
md += `${table(rows)}\n\n`;
md += `All points (target -> achieved DORA/s, drops/sent, p50/p99 ms):\n\n`;
for (const r of rows)
  md += `- ${r.name}: ${r.points.map((p) => `${p.target}->${f(p.rate)} (${p.drops}/${p.sent}, ${f(p.p50, 1)}/${f(p.p99, 1)})`).join('; ')}\n`;
if (!argv.includes('--no-fuzz')) {
  const z = runFuzz(1_000_000);
  md += `\nCodec fuzz: ${z.count.toLocaleString('en')} random and mutated packets, ${z.ok.toLocaleString('en')} decoded, ${z.malformed.toLocaleString('en')} MalformedPacket, nothing else escaped (${z.perSecond.toLocaleString('en')} packets/s).\n`;
}
console.log(md);
fs.writeFileSync(path.join(import.meta.dirname, 'RESULTS.md'), md);
