/**
 * The DHCP plugin's own cost per exchange, without sockets or a kernel: relayed DORAs from distinct MACs
 * through the real plugin, store (lease group commit) and event log, on an in-memory transport, with
 * `inflight` exchanges at once. Prints main-thread CPU microseconds per DORA; repeatable within a few
 * percent on a busy machine, so it guides work on the hot path (bench/dhcp/run.ts measures the server).
 * The best of `rounds` rounds is kept (other jobs on a shared machine only ever add time).
 * `--cold` skips the bench's own warm-up and prints the CPU of the first `--count` DORAs after start in buckets
 * of `--bucket`; `--warm-start N` first runs the plugin's warm start with N DORAs (server/dhcp/warm-start.ts) and
 * waits for it, so the two together show what the warm start saves on the cold path.
 *   node bin/run-ts.mjs bench/dhcp/in-process.ts [--count 10000] [--inflight 64] [--rounds 5] [--dir /dev/shm] [--profile FILE]
 *     [--cold [--bucket 500]] [--warm-start N] [--alloc-profile FILE [--promoted]] [--stalls MS] [--sources]
 * `--stalls MS` runs `--count` DORAs one at a time after the warm-up and lists every one whose wall time passed MS
 * with the leases held then, apart from those a garbage collection overlapped (perf_hooks' gc entries): the
 * synchronous work that holds the server up, such as an index growing (a Map moving all its entries to a table twice
 * the size), at the lease counts where it happens.
 * It runs from its own esbuild bundle, as the shipped server does (bench/shipped.ts); `--sources` runs the TypeScript
 * through tsx instead.
 * `--alloc-profile` samples every allocation of the timed rounds, the ones the young generation collects included
 * (V8's sampling heap profiler), writes the .heapprofile and prints the bytes per DORA and the functions that allocate them;
 * with `--promoted` only what outlived the young generation (promoted to the old one, or still alive at the end):
 * what makes mark-compacts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import inspector from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { openStore } from '../../server/store/store.ts';
import { EventLog } from '../../server/events/event-log.ts';
import { createDhcpPlugin } from '../../server/dhcp/plugin.ts';
import { MemoryIo } from '../../test/dhcp/memory-io.ts';
import { TestHooks, clientPacket, ip4, memoryLogger, testConfig } from '../../test/dhcp/helpers.ts';
import { runBundled, runningBundled } from '../shipped.ts';

const { values: v } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    inflight: { type: 'string', default: '64' },
    dir: { type: 'string', default: os.tmpdir() },
    profile: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    cold: { type: 'boolean', default: false },
    bucket: { type: 'string', default: '500' },
    'warm-start': { type: 'string', default: '0' },
    'alloc-profile': { type: 'string' },
    promoted: { type: 'boolean', default: false },
    sources: { type: 'boolean', default: false },
    stalls: { type: 'string' },
  },
});
// What ships is bundled (bench/shipped.ts): this script re-runs from its own esbuild bundle unless `--sources` asks
// for the TypeScript through tsx (esbuild's keepNames there: about a tenth more CPU per DORA, medians of four runs each).
if (!v.sources && !runningBundled()) process.exit(await runBundled(import.meta.filename, process.argv.slice(2)));
const COUNT = Number(v.count);
const INFLIGHT = Number(v.inflight);
const WARM = Number(v['warm-start']);
// Every DORA takes a fresh address of the /16 pool (about 65,000).
if (COUNT * Number(v.rounds) + 500 > 64_000) throw new Error('--count x --rounds must stay under 64,000 (one /16 pool)');
const dir = fs.mkdtempSync(path.join(v.dir, 'cc-dhcp-inproc-'));
const store = await openStore(dir, 0);
const events = await EventLog.open(store.eventsFile, store.legacyEventsFile, 200_000);
const io = new MemoryIo();
const relay = { address: '10.9.0.2', port: 67 };
const plugin = createDhcpPlugin({
  config: testConfig({
    address: { ip: '10.9.0.1', prefix: 16 },
    range: { start: '10.9.1.0', end: '10.9.255.250' },
    dhcpWarmStart: WARM > 0,
  }),
  leases: store.leases,
  events,
  hooks: new TestHooks(),
  log: memoryLogger(),
  io: io.factory,
  options: { reprobeMs: 0, leaseS: 3600, warmStartDoras: WARM },
});
const w0 = process.cpuUsage();
await plugin.start();
while (WARM > 0 && plugin.warmStart().state === 'running') await new Promise((r) => setTimeout(r, 5));
const warmCpu = process.cpuUsage(w0);
// The line between the warm start and the DORAs after it, in a trace of V8's (test/dhcp/warm-deopt.test.ts).
if (WARM > 0) console.log(`warm start done: ${plugin.warmStart().state}`);

const mac = (i: number) =>
  `02:00:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
/** Take the reply with this xid out of what the plugin sent (reads only xid and yiaddr: the bench's own cost stays small). */
function take(xid: number): number[] {
  for (let k = io.sent.length - 1; k >= 0; k--) {
    const b = io.sent[k]!.buf;
    if (((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0 !== xid) continue;
    io.sent.splice(k, 1);
    return [b[16]!, b[17]!, b[18]!, b[19]!];
  }
  throw new Error(`no reply for xid ${xid}`);
}
async function dora(i: number): Promise<void> {
  const m = mac(i);
  const xid = i;
  await io.deliver(67, clientPacket({ mac: m, xid, giaddr: '10.9.0.2', options: [[53, [1]]] }), relay);
  const yiaddr = take(xid);
  await io.deliver(
    67,
    clientPacket({
      mac: m,
      xid,
      giaddr: '10.9.0.2',
      options: [
        [53, [3]],
        [54, ip4('10.9.0.1')],
        [50, yiaddr],
      ],
    }),
    relay,
  );
  take(xid);
}

const session = v.profile || v['alloc-profile'] ? new inspector.Session() : null;
const post = (m: string) => new Promise<unknown>((res, rej) => session!.post(m, {}, (e, r) => (e ? rej(e) : res(r))));
let connected = false;
/** Connect the inspector session (once). */
function connect(): void {
  if (!session || connected) return;
  session.connect();
  connected = true;
}
/** Start the CPU profile `--profile` asks for. */
async function startCpuProfile(): Promise<void> {
  if (!session || !v.profile) return;
  connect();
  await post('Profiler.enable');
  await post('Profiler.start');
}
/** Stop it and write it to `--profile`. */
async function stopCpuProfile(): Promise<void> {
  if (session && v.profile) fs.writeFileSync(v.profile, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
}
/** Stop the plugin, close the log and the store, remove the data dir. */
async function finish(): Promise<void> {
  await plugin.stop();
  await events.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
if (v.cold) {
  await startCpuProfile();
  // The cold path: the first COUNT DORAs after start, one bucket at a time, nothing run before them but the warm start.
  const B = Number(v.bucket);
  const per: string[] = [];
  let total = 0;
  for (let b = 0; b < COUNT; b += B) {
    const c0 = process.cpuUsage();
    let next = b;
    const end = Math.min(COUNT, b + B);
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (next < end) await dora(next++);
      }),
    );
    const c = process.cpuUsage(c0);
    total += c.user + c.system;
    per.push(((c.user + c.system) / (end - b)).toFixed(0));
  }
  await stopCpuProfile();
  const w = plugin.warmStart();
  console.log(
    `warm start ${WARM} DORAs: ${w.exchanges} exchanges, ${w.ms.toFixed(0)} ms, ${w.cpuMs.toFixed(0)} ms CPU in slices ` +
      `(process ${((warmCpu.user + warmCpu.system) / 1000).toFixed(0)} ms incl. start); then ${COUNT} DORAs: ${(total / 1000).toFixed(0)} ms CPU, ` +
      `µs/DORA per ${B}: ${per.join(' ')}`,
  );
  await finish();
  process.exit(0);
}
for (let i = 0; i < 500; i++) await dora(1_000_000 + i); // warm-up: JIT, first file writes
if (v.stalls !== undefined) {
  const limit = Number(v.stalls);
  const gcs: [number, number][] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  });
  obs.observe({ entryTypes: ['gc'] });
  await startCpuProfile();
  const slow: [number, number, number][] = [];
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const a = performance.now();
    await dora(i);
    const b = performance.now();
    if (b - a > limit) slow.push([i + 500, a, b]);
  }
  const wall = performance.now() - t0;
  await stopCpuProfile();
  await new Promise((r) => setTimeout(r, 50)); // the observer's entries arrive on a later turn
  obs.disconnect();
  const overlaps = (a: number, b: number) => gcs.some(([s, e]) => s < b && e > a);
  const noGc = slow.filter(([, a, b]) => !overlaps(a, b));
  const fmt = (xs: [number, number, number][]) => xs.map(([n, a, b]) => `${n}:${(b - a).toFixed(1)}`).join(' ') || '-';
  console.log(
    `${COUNT} DORAs one at a time in ${wall.toFixed(0)} ms; ${gcs.length} collections; above ${limit} ms: ${slow.length}, ` +
      `${noGc.length} with no collection overlapping (leases held:ms): ${fmt(noGc)}; with one: ${fmt(slow.filter((x) => !noGc.includes(x)))}`,
  );
  await finish();
  process.exit(0);
}
connect();
await startCpuProfile();
if (session && v['alloc-profile']) {
  await new Promise<void>((res, rej) =>
    session.post(
      'HeapProfiler.startSampling',
      { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !v.promoted },
      (e) => (e ? rej(e) : res()),
    ),
  );
}
const rounds: { wall: number; cpu: NodeJS.CpuUsage }[] = [];
for (let k = 0; k < Number(v.rounds); k++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const base = k * COUNT;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < COUNT) await dora(base + next++);
    }),
  );
  rounds.push({ wall: performance.now() - t0, cpu: process.cpuUsage(c0) });
}
await stopCpuProfile();
if (session && v['alloc-profile']) {
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: AllocNode & { head?: AllocNode } };
  fs.writeFileSync(v['alloc-profile'], JSON.stringify(profile));
  printAllocations(
    (profile as { head: AllocNode }).head,
    COUNT * Number(v.rounds),
    v.promoted ? 'that outlived the young generation' : 'allocated',
  );
}
const s = plugin.stats();
const us = (c: NodeJS.CpuUsage) => (c.user + c.system) / COUNT;
const best = rounds.reduce((a, b) => (us(b.cpu) < us(a.cpu) ? b : a));
console.log(
  `${COUNT} DORA x ${rounds.length} rounds; best: ${best.wall.toFixed(0)} ms (${((COUNT * 1000) / best.wall).toFixed(0)}/s), CPU ${us(best.cpu).toFixed(1)} µs/DORA ` +
    `(user ${(best.cpu.user / COUNT).toFixed(1)}, system ${(best.cpu.system / COUNT).toFixed(1)}); all rounds ${rounds.map((r) => us(r.cpu).toFixed(1)).join(', ')} µs; ` +
    `${s.acks} ACKs, ${s.lease_batches} lease batches, data on ${v.dir}`,
);
await finish();

/** A node of V8's sampling heap profile. */
interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

/** Bytes allocated per DORA, and the 25 functions that allocate the most of them (by self size). */
function printAllocations(head: AllocNode, doras: number, what: string): void {
  const by = new Map<string, number>();
  let total = 0;
  const walk = (n: AllocNode) => {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    by.set(key, (by.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    n.children.forEach(walk);
  };
  walk(head);
  console.log(`${what} (sampled): ${(total / doras).toFixed(0)} bytes per DORA`);
  for (const [k, b] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(b / doras).toFixed(0).padStart(7)} B/DORA  ${k}`);
}
