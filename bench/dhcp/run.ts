/**
 * DHCP benchmark: perfdhcp relayed DORA sweeps against Crashcart (`crashcart serve`), Kea (memfile) and
 * dnsmasq on one namespace setup, in four configurations: server pinned to one core and perfdhcp to the
 * other (the independent harness) or unpinned, and fsync on (data on ext4) or off (data on tmpfs, where
 * fdatasync returns at once: the durability Kea's memfile has). Every step runs on a fresh server,
 * repeated; a rate counts only when every repetition had zero drops. Writes bench/dhcp/RESULTS.md.
 * Crashcart gets load only once its DHCP warm start has finished (servers.ts waits for it in /api/v1/status);
 * `--servers crashcart,crashcart-cold,...` adds the same server with the warm start off, for an A/B in one run;
 * `crashcart-dgram` is the server with `--dhcp-js` (DHCP through Node's datagram layer, not the batching addon),
 * `crashcart-gc1` the server under `node --single-threaded-gc`, `crashcart-sources` the server from the TypeScript sources
 * through tsx (every other Crashcart row runs the bundle a package ships: bench/shipped.ts), `crashcart-every-event` the
 * server with its per-packet DHCP event budget lifted (every packet's event recorded, as before 2026-12-07).
 *
 *   node bin/run-ts.mjs bench/dhcp/run.ts [--seconds 5] [--clients 10000] [--reps 2] [--rates 1000,2000,...]
 *     [--configs pinned-fsync,pinned-nofsync,unpinned-fsync,unpinned-nofsync] [--servers crashcart,crashcart-cold,crashcart-dgram,crashcart-gc1,crashcart-pretenuring,crashcart-sources,crashcart-every-event,kea,kea-minimal,dnsmasq,plugin]
 *     [--profile DIR] [--trace-gc] [--no-fuzz] [--out FILE]
 * `--trace-gc` runs `serve` under V8's `--trace-gc-nvp` and adds each step's collections to its line and note (the
 * scavenges' pause, copying phase and survivors: bench/gc-trace.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Lab } from '../../test/support/netns-lab.ts';
import {
  NET,
  crashcartCold,
  crashcartDgram,
  crashcartMainThreadGc,
  crashcartPretenuring,
  crashcartPlugin,
  crashcartServe,
  crashcartSources,
  crashcartEveryEvent,
  dnsmasq,
  kea,
  keaMinimal,
  type Starter,
} from './servers.ts';
import { sweepAll, type BenchConfig } from './sweep.ts';
import { detail, summaryTable, type ConfigResult } from './report.ts';
import { runFuzz } from './fuzz.ts';
import { requireTools } from '../require-tools.ts';
import { buildShippedBundle, SHIPPED_NOTE } from '../shipped.ts';

const { values: v } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '10000' },
    reps: { type: 'string', default: '2' },
    rates: { type: 'string', default: '500,1000,2000,3000,4000,5000,6000,7500,10000,12500,15000,20000' },
    configs: { type: 'string', default: 'pinned-fsync,pinned-nofsync,unpinned-fsync,unpinned-nofsync' },
    servers: { type: 'string', default: 'crashcart,kea,kea-minimal,dnsmasq' },
    profile: { type: 'string' },
    'trace-gc': { type: 'boolean', default: false },
    'no-fuzz': { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(import.meta.dirname, 'RESULTS.md') },
  },
});
const PEERS: Record<string, string> = { kea: 'kea-dhcp4', 'kea-minimal': 'kea-dhcp4', dnsmasq: 'dnsmasq' };
requireTools('dhcp', ['perfdhcp', 'taskset', ...v.servers.split(',').flatMap((s) => (PEERS[s] ? [PEERS[s]] : []))]);
const SECONDS = Number(v.seconds);
const CLIENTS = Number(v.clients);
const REPS = Number(v.reps);
const RATES = v.rates.split(',').map(Number);

const SERVERS: Record<string, [string, Starter]> = {
  crashcart: ['Crashcart', crashcartServe],
  'crashcart-cold': ['Crashcart, warm start off', crashcartCold],
  'crashcart-dgram': ['Crashcart, --dhcp-js', crashcartDgram],
  'crashcart-gc1': ['Crashcart, node --single-threaded-gc', crashcartMainThreadGc],
  'crashcart-pretenuring': ['Crashcart, V8 pretenuring on', crashcartPretenuring],
  'crashcart-sources': ['Crashcart from the sources (tsx)', crashcartSources],
  'crashcart-every-event': ['Crashcart, every packet event recorded', crashcartEveryEvent],
  plugin: ['Crashcart DHCP plugin alone', crashcartPlugin],
  kea: ['Kea (memfile)', kea],
  'kea-minimal': ['Kea (memfile), minimal replies', keaMinimal],
  dnsmasq: ['dnsmasq', dnsmasq],
};

const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-bench-'));
const tmpfs = fs.mkdtempSync(path.join('/dev/shm', 'cc-dhcp-bench-'));
const CONFIGS: Record<string, BenchConfig> = {
  'pinned-fsync': { name: 'pinned, fsync on', serverCpus: '0', clientCpus: '1', root: disk, fsync: true },
  'pinned-nofsync': { name: 'pinned, fsync off', serverCpus: '0', clientCpus: '1', root: tmpfs, fsync: false },
  'unpinned-fsync': { name: 'unpinned, fsync on', serverCpus: null, clientCpus: null, root: disk, fsync: true },
  'unpinned-nofsync': { name: 'unpinned, fsync off', serverCpus: null, clientCpus: null, root: tmpfs, fsync: false },
};

if (v.servers.split(',').some((s) => s.startsWith('crashcart'))) buildShippedBundle();
const lab = new Lab('bench', 'dhcp');
const results: ConfigResult[] = [];
const t0 = Date.now();
try {
  lab.addSwitch();
  lab.addNs('srv');
  lab.addNs('perf');
  lab.plug('srv', 's0', `${NET.server}/${NET.prefix}`);
  lab.plug('perf', 'e0', `${NET.relay}/${NET.prefix}`);
  for (const key of v.configs.split(',')) {
    const cfg = CONFIGS[key];
    if (!cfg) throw new Error(`unknown configuration ${key}; known: ${Object.keys(CONFIGS).join(', ')}`);
    const servers = v.servers.split(',').map((sk) => {
      const s = SERVERS[sk];
      if (!s) throw new Error(`unknown server ${sk}; known: ${Object.keys(SERVERS).join(', ')}`);
      return s;
    });
    const opts = {
      rates: RATES,
      seconds: SECONDS,
      clients: CLIENTS,
      reps: REPS,
      profileDir: v.profile,
      traceGc: v['trace-gc'],
      log: (l: string) => console.error(l),
    };
    results.push({ cfg, sweeps: await sweepAll(lab, servers, cfg, opts) });
  }
} finally {
  await lab.cleanup();
  fs.rmSync(disk, { recursive: true, force: true });
  fs.rmSync(tmpfs, { recursive: true, force: true });
}
const cpus = os.cpus();
let md = `# DHCP benchmark results\n\n`;
md += `perfdhcp (Kea 2.2 tools) as a relay (giaddr ${NET.relay}, source port 67), full DORA, ${CLIENTS.toLocaleString('en')} distinct clients, `;
md += `${SECONDS} s per rate step, ${REPS} repetitions per step, every repetition on a freshly started server with an empty lease store. `;
md += `A rate counts as zero-drop only when every repetition had zero drops; p50/p99 are the worse of the repetitions (per exchange, DISCOVER->OFFER and REQUEST->ACK, from perfdhcp \`-x t\`); the step lists also give the p99 of each exchange alone (DO: DISCOVER->OFFER, RA: REQUEST->ACK). In the step lists a step with drops also says how many datagrams the kernel dropped at a full receive buffer (UDP RcvbufErrors): in perfdhcp's own socket (replies it did not read in time, which it counts as drops) and in the server's.\n`;
md += `Pinned: the server runs under \`taskset -c 0\`, perfdhcp under \`taskset -c 1\` (the independent harness); unpinned: neither. `;
md += `fsync on: data on ext4, Crashcart fdatasyncs every ACKed lease before the ACK leaves (group commit); fsync off: every server's data on tmpfs, `;
md += `where fdatasync returns at once (the durability of Kea's memfile and dnsmasq, which never fsync). Crashcart is the whole \`crashcart serve\` process. ${SHIPPED_NOTE}.\n`;
md += `Every reply carries the same options where the server can be told to: Crashcart's OFFER and ACK hold 53, 54, 61 (echoed, RFC 6842), 51, 58, 59, 1, 28, 3 and 6; "Kea (memfile)" is configured to send the same (bench/dhcp/kea-config.ts); "Kea (memfile), minimal replies" sends Kea's own minimum (53, 54, 51, 1, 61), the only Kea of the runs before 2026-12-03. perfdhcp parses every option of every reply on its one core, so the two Kea rows differ in perfdhcp's work as well as in Kea's. perfdhcp runs its multi-thread mode in every row (it counts the machine's CPUs, not the ones taskset gives it).\n`;
md += `Machine: ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, shared with other jobs (load average at the end: ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ')}); run took ${Math.round((Date.now() - t0) / 60000)} min. Compare the ratios.\n\n`;
md += `${summaryTable(results)}\n\n${detail(results)}\n`;
if (!v['no-fuzz']) {
  const z = runFuzz(1_000_000);
  md += `Codec fuzz: ${z.count.toLocaleString('en')} random and mutated packets, ${z.ok.toLocaleString('en')} decoded, ${z.malformed.toLocaleString('en')} MalformedPacket, nothing else escaped (${z.perSecond.toLocaleString('en')} packets/s).\n`;
}
console.log(md);
fs.writeFileSync(v.out, md);
