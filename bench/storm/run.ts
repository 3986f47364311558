/**
 * The full-protocol boot storm: N simulated machines (each its own MAC, interface and address on one
 * switch) power on at once and do the whole conversation a real one does (machine.ts), first against
 * Crashcart, then the transport part against dnsmasq + nginx in the same run. Reports time until all are
 * registered, the slowest machine, failures and retries, and the servers' CPU and memory.
 * Writes bench/storm/RESULTS.md (with --machines 500, bench/storm/RESULTS-500.md).
 *
 *   node bin/run-ts.mjs bench/storm/run.ts [--machines 100] [--only crashcart|reference] [--http-copy] [--out FILE]
 *     --http-copy: Crashcart copies boot files from memory instead of sendfile(2) (to compare the two)
 *     --reps N: N storms per server (default 3 at 100 machines, else 1), the servers alternating; the table shows
 *       each server's median one
 *     --tftp-js: Crashcart runs TFTP transfers in JavaScript instead of its native pump (to compare the two)
 *     --profile DIR: Crashcart runs under --cpu-prof; the profile lands in DIR when it stops
 *     --dump FILE: append each storm's per-machine results (phase times, retries, errors) to FILE as one JSON line
 *     --assets-from nginx: Crashcart's machines fetch the kernel and initrd from an nginx beside Crashcart (same files,
 *       same CPUs, its CPU counted as Crashcart's) instead of its node plane: the storm with every download served as
 *       nginx serves it, to see how much of the difference the downloads are; writes RESULTS-assets-nginx.md
 *       (RESULTS-pinned-assets-nginx.md)
 *     --pin: the servers on CPU 0 and the rack on CPU 1 (unpinned, both sides share both cores and the rack's receive
 *       work lands on whichever core is free); writes RESULTS-pinned.md (RESULTS-500-pinned.md)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { ipxeKernelOf, REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { StormLab, STORM_NET } from './lab.ts';
import { ASSET_NGINX_PORT, pinPrefix, startCrashcart, startReference, treeUsage, type StormServer } from './servers.ts';
import type { MachineResult, MachineSpec } from './machine.ts';
import { medianRun, repsLine, stormTable, type StormRun } from './report.ts';
import { requireTools } from '../require-tools.ts';
import { buildShippedBundle, SHIPPED_NOTE } from '../shipped.ts';

const { values: v } = parseArgs({
  options: {
    machines: { type: 'string', default: '100' },
    only: { type: 'string' },
    out: { type: 'string' },
    'http-copy': { type: 'boolean', default: false },
    'tftp-js': { type: 'boolean', default: false },
    reps: { type: 'string' },
    profile: { type: 'string' },
    dump: { type: 'string' },
    pin: { type: 'boolean', default: false },
    'assets-from': { type: 'string', default: 'crashcart' },
  },
});
if (v['assets-from'] !== 'crashcart' && v['assets-from'] !== 'nginx')
  throw new Error(`--assets-from ${v['assets-from']}: say crashcart (its node plane, the default) or nginx`);
const assetsFromNginx = v['assets-from'] === 'nginx';
requireTools('storm', v.only === 'crashcart' ? (assetsFromNginx ? ['nginx'] : []) : ['nginx', 'dnsmasq']);
const N = Number(v.machines);
// --pin: the servers' processes on CPU 0, the rack on CPU 1 (each side a core of its own, as bench/dhcp pins them).
const serverCpus = v.pin ? '0' : null;
const rackCpus = v.pin ? '1' : null;
const mk = path.join(REPO_ROOT, 'build', 'out', 'microkernel');
if (!fs.existsSync(path.join(mk, 'initrd.img'))) throw new Error(`no microkernel in ${mk}: run npm run build:microkernel first`);

/** The machines: lab-profile hardware, each with its own identity; the boot NIC's MAC is the interface's. */
async function machines(): Promise<Omit<MachineSpec, 'ifindex'>[]> {
  // x86 machines only: they boot undionly.kpxe over BIOS PXE (arm64 profiles would need another loader).
  const profiles = (await loadProfiles()).filter((p) => !/aarch64|arm/i.test(p.inventory.cpu.architecture ?? ''));
  return Array.from({ length: N }, (_, i) => {
    const { inventory, id } = personalize(profiles[i % profiles.length]!, 17, i + 1);
    return {
      index: i + 1,
      mac: id.mac,
      ifname: `m${i + 1}`,
      table: 1000 + i,
      prefix: STORM_NET.prefix,
      inventory,
      vars: {
        mac: id.mac,
        uuid: id.uuid,
        serial: id.serial,
        manufacturer: inventory.system.manufacturer ?? '',
        product: inventory.system.product ?? '',
        buildarch: 'x86_64',
        platform: 'pcbios',
      },
    };
  });
}

async function storm(
  lab: StormLab,
  srv: StormServer,
  specs: Omit<MachineSpec, 'ifindex'>[],
  reference: boolean,
  dir: string,
): Promise<StormRun> {
  lab.createRack(specs.map((s) => ({ ifname: s.ifname, mac: s.mac, table: s.table })));
  const specFile = path.join(dir, `spec-${reference ? 'ref' : 'cc'}.json`);
  const assetBase = assetsFromNginx && !reference ? `http://${STORM_NET.server}:${ASSET_NGINX_PORT}` : undefined;
  fs.writeFileSync(specFile, JSON.stringify({ reference, assetBase, machines: specs }));
  const c = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.rack,
      ...pinPrefix(rackCpus),
      process.execPath,
      path.join(REPO_ROOT, 'bin', 'run-ts.mjs'),
      path.join(import.meta.dirname, 'client.ts'),
      specFile,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let err = '';
  c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-5000)));
  const results: MachineResult[] = [];
  let doneMs = 0;
  let rackCpuMs = 0;
  const lines = readline.createInterface({ input: c.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => {
      const m = JSON.parse(l) as { type: string; ms?: number; cpuMs?: number } & MachineResult;
      if (m.type === 'ready') resolve();
      if (m.type === 'result') results.push(m);
      if (m.type === 'done') {
        doneMs = m.ms ?? 0;
        rackCpuMs = m.cpuMs ?? 0;
      }
    });
    c.once('exit', () => reject(new Error(`rack exited before it was ready: ${err}`)));
  });
  await ready;
  const usage = () =>
    srv.pids().reduce((a, p) => ({ cpuMs: a.cpuMs + treeUsage(p).cpuMs, rssKiB: a.rssKiB + treeUsage(p).rssKiB }), { cpuMs: 0, rssKiB: 0 });
  const u0 = usage();
  let peakKiB = u0.rssKiB;
  const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, usage().rssKiB)), 200);
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.stdin.write('go\n');
  await exited;
  clearInterval(sampler);
  const u1 = usage();
  lab.destroyRack();
  if (results.length !== specs.length) throw new Error(`the rack reported ${results.length} of ${specs.length} machines: ${err}`);
  return {
    server: srv.name,
    reference,
    results,
    wallMs: doneMs,
    rackCpuMs,
    cpuMs: u1.cpuMs - u0.cpuMs,
    peakRssMiB: Math.max(peakKiB, u1.rssKiB) / 1024,
  };
}

if (v.only !== 'reference') buildShippedBundle();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-storm-'));
fs.chmodSync(dir, 0o755);
const lab = new StormLab();
const reps: StormRun[][] = [];
const REPS = Math.max(1, Number(v.reps ?? (N === 100 ? 3 : 1))); // one storm wanders by +-30% on a shared machine
const t0 = Date.now();
try {
  lab.create();
  const specs = await machines();
  for (let rep = 0; rep < REPS; rep++) {
    const runs: StormRun[] = [];
    for (const [name, start, reference] of [
      [
        'crashcart',
        (ns: string, d: string, m: string) =>
          startCrashcart(ns, d, m, v['http-copy'], v.profile, v['tftp-js'], serverCpus, assetsFromNginx),
        false,
      ],
      ['reference', (ns: string, d: string, m: string) => startReference(ns, d, m, serverCpus), true],
    ] as const) {
      if (v.only && v.only !== name) continue;
      const srv = await start(lab.srv, dir, mk);
      try {
        const r = await storm(lab, srv, specs, reference, dir);
        runs.push(r);
        if (v.dump) fs.appendFileSync(v.dump, JSON.stringify({ rep, server: srv.name, results: r.results }) + '\n');
        process.stderr.write(
          `rep ${rep + 1}/${REPS} ${srv.name}: ${r.results.filter((x) => x.ok).length}/${N} ok, ${(r.wallMs / 1000).toFixed(1)} s\n`,
        );
      } finally {
        await srv.stop();
      }
    }
    reps.push(runs);
  }
} finally {
  await lab.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
// Per server, the repetition with the median transport time.
const runs = [false, true]
  .map((reference) => reps.map((rs) => rs.find((r) => r.reference === reference)).filter((r): r is StormRun => r !== undefined))
  .filter((xs) => xs.length > 0)
  .map(medianRun);
const doc = `# Boot storm results (${N} machines${v.pin ? ', pinned' : ''})

Generated by \`node bin/run-ts.mjs bench/storm/run.ts --machines ${N}${REPS > 1 ? ` --reps ${REPS}` : ''}${v.pin ? ' --pin' : ''}${assetsFromNginx ? ' --assets-from nginx' : ''}\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} cores shared with other work, Node ${process.version}; ${Math.round((Date.now() - t0) / 60000)} min, load average at the end ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ')}).
${N} simulated machines (lab-profile hardware, each with its own MAC as a macvlan on one bridge, its own address and
policy route) power on at the same instant and each does the whole conversation: PXE ROM DHCP (60 PXEClient, 93, 94, 97,
broadcast flag) -> TFTP tsize probe and lock-step read of undionly.kpxe (blksize 1468) -> iPXE DHCP (77 iPXE, 175) ->
GET /boot.ipxe -> GET /boot?mac=... -> kernel and initrd of the real microkernel (${(fs.statSync(path.join(mk, ipxeKernelOf(mk))).size / 1e6).toFixed(1)} + ${(fs.statSync(path.join(mk, 'initrd.img')).size / 1e6).toFixed(1)} MB) -> register
(facts of the profile, from the leased address) -> first check-in. The simulated rack is one process written with
Crashcart's own codecs (bench/storm/machine.ts; it counts the kernel and initrd in one shared buffer, body-sink.ts); both runs use it. The reference serves the same transport part: dnsmasq
(DHCP, TFTP; no ping before offers) and nginx (sendfile) for the script and the same two files. It cannot register:
its machines send the same register and check-in to nginx, which returns a fixed valid answer (untimed), so the rack,
one process near the limit of one core, does the same work in both runs (until 2026-12-01 it did them only against Crashcart).
Times are from power-on; CPU is the servers' user + system time over the storm (Crashcart: the \`crashcart serve\`
process and its RA responder; reference: dnsmasq, nginx master and workers), memory the peak resident size sampled every 200 ms.
${SHIPPED_NOTE}.${v.pin ? "\nPinned: the servers' processes (every thread) on CPU 0, the rack on CPU 1." : ''}${
  assetsFromNginx
    ? `\n**--assets-from nginx**: Crashcart's machines fetch the kernel and initrd from an nginx beside \`crashcart serve\` (port ${ASSET_NGINX_PORT}, the reference's nginx configuration, the same CPUs; its CPU is counted in Crashcart's column), not from the node plane. Everything else is Crashcart's.`
    : ''
}

${stormTable(runs)}
${REPS > 1 ? `\n${repsLine(reps)}\n` : ''}`;
const base = `RESULTS${N === 100 ? '' : `-${N}`}${v.pin ? '-pinned' : ''}${assetsFromNginx ? '-assets-nginx' : ''}.md`;
fs.writeFileSync(v.out ?? path.join(import.meta.dirname, base), doc);
process.stdout.write(doc);
