/**
 * A storm machine's node-plane requests in process, one machine after another, no sockets: GET /boot.ipxe,
 * GET /boot?mac=..., GET /mk/vmlinuz, POST register (the facts of a lab profile), POST check-in, through
 * inject() on a whole appliance (store on disk, event log, the default rate limit on). What bench/storm cannot
 * separate: the CPU of each request, the fdatasync calls per machine, and the main thread's time handing them
 * to the thread pool.
 *   node bin/run-ts.mjs bench/storm/node-plane.ts [--machines 300] [--profile FILE] [--each-thread]
 * Prints the median CPU per request (process CPU, every thread: the pool's fdatasync work included) over the
 * second `--machines` machines, after as many for warm-up; the sync points per machine of the node and facts
 * files (fdatasync calls and syncs skipped with nothing new); and the synchronous part of each
 * `FileHandle.datasync()` call (the hand-off to a pool thread, which this VM makes costly). `--profile` writes a
 * CPU profile of the timed machines. The CPU of the process's threads is listed by name (Node 20 names none but the
 * ones our addons start), with `--each-thread` by thread id: the first four after the main thread are V8's workers
 * (concurrent GC and compilation), the next four libuv's pool. Runs the TypeScript sources through tsx.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildRegisterRequest } from '../../agent/loop/register-request.ts';
import { loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { classifyBootScript } from '../../server/lab/ipxe-sim.ts';
import { DEFAULT_NODE_RATE_LIMIT_PER_MIN } from '../../server/config/defaults.ts';
import { startInProcess } from '../../test/support/appliance.ts';
import { percentile } from '../percentile.ts';

const { values: v } = parseArgs({
  options: {
    machines: { type: 'string', default: '300' },
    profile: { type: 'string' },
    'each-thread': { type: 'boolean', default: false },
  },
});
const N = Number(v.machines);

// The main thread's share of each fdatasync: the time FileHandle.datasync() takes before it returns its promise.
const probe = await fsp.open(os.devNull, 'r');
const proto = Object.getPrototypeOf(probe) as { datasync(this: fsp.FileHandle): Promise<void> };
await probe.close();
const datasync = proto.datasync;
const handOffMs: number[] = [];
proto.datasync = function (this: fsp.FileHandle) {
  const t0 = performance.now();
  const p = datasync.call(this);
  handOffMs.push(performance.now() - t0);
  return p;
};

const mk = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-np-mk-'));
for (const f of ['vmlinuz', 'initrd.img']) fs.writeFileSync(path.join(mk, f), `bench ${f}`);
const a = await startInProcess(['--microkernel', mk, '--rate-limit', String(DEFAULT_NODE_RATE_LIMIT_PER_MIN)]);
const profiles = (await loadProfiles()).filter((p) => !/aarch64|arm/i.test(p.inventory.cpu.architecture ?? ''));

const STEPS = ['boot.ipxe', '/boot', 'kernel', 'register', 'check-in'] as const;
type Step = (typeof STEPS)[number];
const noLaps = () => Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
let cpuMs = noLaps();
/** The main thread's time on a CPU, ms (schedstat's first field, ns; Node 20 has no per-thread CPU usage). */
const mainThreadMs = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
/** Each thread's time on a CPU, ms, by thread name (`node` for all of Node 20's own), or by id with `--each-thread`. */
function threadMs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const name = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      const ms = Number(fs.readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      const key = t === String(process.pid) ? 'main' : v['each-thread'] ? `${name}:${t}` : name;
      out.set(key, (out.get(key) ?? 0) + ms);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One machine's requests, each timed. */
async function machine(i: number): Promise<void> {
  const { inventory, id } = personalize(profiles[i % profiles.length]!, 29, i + 1);
  const remoteAddress = `10.66.${(i >> 8) & 255}.${(i & 255) + 1}`;
  let c = cpuNow();
  const lap = (s: Step) => {
    const n = cpuNow();
    cpuMs[s].push(n - c);
    c = n;
  };
  const get = async (url: string) => {
    const r = await a.node.inject({ method: 'GET', url, remoteAddress });
    if (r.statusCode !== 200) throw new Error(`GET ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    return r.body;
  };
  const post = async (url: string, payload: object) => {
    const r = await a.node.inject({ method: 'POST', url, payload, remoteAddress });
    if (r.statusCode !== 200) throw new Error(`POST ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    return r.json() as Record<string, unknown>;
  };
  await get('/boot.ipxe');
  lap('boot.ipxe');
  const script = await get(`/boot?mac=${id.mac}&uuid=${id.uuid}&serial=${encodeURIComponent(id.serial ?? '')}&arch=x86_64&platform=pcbios`);
  lap('/boot');
  await get('/mk/vmlinuz');
  lap('kernel');
  const d = classifyBootScript(script);
  if (d.kind !== 'microkernel') throw new Error(`/boot answered ${d.kind}`);
  const { request, facts_hash } = buildRegisterRequest(inventory, { token: d.token, nodeId: d.nodeId }, null);
  const reg = await post('/api/v1/register', request);
  lap('register');
  await post('/api/v1/checkin', { node_id: reg.node_id, agent_token: reg.agent_token, state: 'running', facts_hash, first_checkin: true });
  lap('check-in');
}

/** The p-th percentile of unsorted `xs` (bench/percentile.ts), 0 when empty. */
const pct = (xs: readonly number[], p: number) =>
  percentile(
    [...xs].sort((x, y) => x - y),
    p,
  ) ?? 0;
const store = a.app.ctx.store;
const syncPoints = () => ({
  nodes: { syncs: store.nodes.fsync.syncs, skipped: store.nodes.fsync.cleanSkips },
  facts: { syncs: store.facts.fsync.syncs, skipped: store.facts.fsync.cleanSkips },
});
try {
  const coldMain0 = mainThreadMs();
  for (let i = 0; i < N; i++) await machine(i);
  const coldMainMs = mainThreadMs() - coldMain0;
  cpuMs = noLaps();
  handOffMs.length = 0;
  const before = syncPoints();
  const main0 = mainThreadMs();
  const threads0 = threadMs();
  const proc0 = cpuNow();
  const session = v.profile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  for (let i = N; i < 2 * N; i++) await machine(i);
  const mainMs = mainThreadMs() - main0;
  const procMs = cpuNow() - proc0;
  const threads1 = threadMs();
  if (session) fs.writeFileSync(v.profile!, JSON.stringify((await session.post('Profiler.stop')).profile));
  const after = syncPoints();
  const per = (x: number) => (x / N).toFixed(2);
  console.log(`${N} machines after ${N} of warm-up (${new Date().toISOString()}, load average ${os.loadavg()[0]!.toFixed(1)})`);
  console.log(
    `CPU per machine: ${per(mainMs)} ms on the main thread, ${per(procMs)} ms in the whole process (warm-up machines, right after start: ${per(coldMainMs)} ms on the main thread)`,
  );
  const byThread = [...threads1].map(([k, ms]) => [k, ms - (threads0.get(k) ?? 0)] as const).filter(([, ms]) => ms > 0);
  console.log(`  by thread, ms per machine: ${byThread.map(([k, ms]) => `${k} ${per(ms)}`).join(', ')}`);
  console.log(`CPU per request, median ms: ${STEPS.map((s) => `${s} ${pct(cpuMs[s], 50).toFixed(2)}`).join(', ')}`);
  console.log(
    `per machine: nodes.db ${per(after.nodes.syncs - before.nodes.syncs)} syncs, ${per(after.nodes.skipped - before.nodes.skipped)} skipped; ` +
      `facts.db ${per(after.facts.syncs - before.facts.syncs)} syncs, ${per(after.facts.skipped - before.facts.skipped)} skipped`,
  );
  const total = handOffMs.reduce((x, y) => x + y, 0);
  console.log(
    `datasync() hand-off on the main thread: ${handOffMs.length} calls, median ${(pct(handOffMs, 50) * 1000).toFixed(0)} µs, ` +
      `p90 ${(pct(handOffMs, 90) * 1000).toFixed(0)} µs, ${(total / N).toFixed(3)} ms per machine`,
  );
} finally {
  await a.stop();
  fs.rmSync(mk, { recursive: true, force: true });
}
