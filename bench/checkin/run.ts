/**
 * bench/checkin: register and check-in throughput and p50/p99 latency with
 * 10,000 registered nodes, through the real HTTP listener of `crashcart serve`
 * (a child process), next to a bare Fastify route in the same run.
 * Besides rates and latencies it reports each server's CPU per request (user + system time of the
 * server process over the phase, from /proc), the figure other load on the machine disturbs least.
 * Usage: node bin/run-ts.mjs bench/checkin/run.ts [--nodes 10000] [--seconds 10] [--connections 32]
 *   [--profile DIR] (Crashcart runs under --cpu-prof, the profile lands in DIR at exit)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { factsHash } from '../../contract/facts-hash.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { freePort, spawnAppliance } from '../../test/support/appliance.ts';
import { buildShippedBundle, SHIPPED_ENV, SHIPPED_NOTE } from '../shipped.ts';
import { procCpuMs } from '../proc-stat.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    profile: { type: 'string' },
  },
});
const N = Number(values.nodes);
const SECONDS = Number(values.seconds);
const CONNS = Number(values.connections);

function start(args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(c);
    });
    c.once('exit', (code) => reject(new Error(`child exited ${code}: ${out}`)));
  });
}

/** CPU time (user + system) of a process so far, in ms (/proc/PID/stat fields 14 and 15, in clock ticks). */
const cpuMs = (pid: number): number => procCpuMs(`/proc/${pid}/stat`);

/** Runs `phase` and returns its result with the server's CPU per request in µs. */
async function withCpu<T>(pid: number, requests: (r: T) => number, phase: () => Promise<T>): Promise<T & { cpuUs: number }> {
  const c0 = cpuMs(pid);
  const r = await phase();
  return { ...r, cpuUs: ((cpuMs(pid) - c0) * 1000) / Math.max(1, requests(r)) };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

async function main(): Promise<void> {
  buildShippedBundle();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-bench-'));
  const bare = await freePort();
  // The kit's starter: the real `crashcart serve` on loopback, no rate limit (its test defaults), a quiet log.
  const cc = await spawnAppliance(['--log-level', 'error'], {
    dataDir,
    env: SHIPPED_ENV,
    nodeArgs: values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : [],
  });
  const ref = await start(
    [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), path.join(REPO_ROOT, 'bench', 'checkin', 'bare-fastify.ts'), String(bare)],
    /ready/,
  );
  const base = cc.nodeUrl;
  try {
    // One loopback address plays 10,000 machines: lift the node plane's per-source, all-source and discovery limits explicitly.
    const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    const lifted = await fetch(`${cc.adminUrl}/api/v1/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        node_create_per_source_per_min: 0,
        node_events_per_source_per_min: 0,
        node_events_per_min: 0,
        discovered_events_per_min: 0,
        facts_bytes_per_source_per_min: 0,
        unregistered_nodes_max: 0,
      }),
    });
    if (!lifted.ok) throw new Error(`lifting the limits failed: ${lifted.status} ${await lifted.text()}`);
    // Phase 1: boot N machines (untimed: collects each one's enrolment token), then register them all
    // with 64 in flight, timed, against Crashcart (fsync per answer, group commit) and the bare route.
    const bodies: { body: string; factsHash: string }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < N) {
          const i = next++;
          const mac = `02:be:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
          const boot = await (await fetch(`${base}/boot?mac=${mac}&serial=B${i}`)).text();
          const facts = {
            serialnumber: `B${i}`,
            manufacturer: 'Bench',
            memorysize_mb: 65536 + (i % 7),
            processorcount: 32,
            macaddress_eth0: mac,
          };
          const node_id = Number(/crashcart\.node=(\d+)/.exec(boot)![1]);
          const token = /crashcart\.token=(\S+)/.exec(boot)![1];
          bodies[i] = {
            body: JSON.stringify({ hw_id: mac, node_id, macs: [mac], serial: `B${i}`, token, facts }),
            factsHash: factsHash(facts),
          };
        }
      }),
    );
    // Registers of nodes [from, to) with 64 in flight; latencies and answers into `into`, returns the wall ms.
    type RegRun = { lat: number[]; answers: { node_id: number; agent_token: string }[]; ms: number; cpuMs: number };
    const registerSlice = async (url: string, from: number, to: number, into: RegRun) => {
      let k = from;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (k < to) {
            const i = k++;
            const s = performance.now();
            const r = await fetch(`${url}/api/v1/register`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: bodies[i]!.body,
            });
            into.lat.push(performance.now() - s);
            if (r.status !== 200) throw new Error(`register ${r.status}: ${await r.text()}`);
            into.answers[i] = (await r.json()) as { node_id: number; agent_token: string };
          }
        }),
      );
      into.ms += performance.now() - t0;
    };
    // The two servers take turns, a quarter of the nodes each time, so load from other jobs that comes and
    // goes falls on both alike.
    const fresh = (): RegRun => ({ lat: [], answers: [], ms: 0, cpuMs: 0 });
    const [oursRun, bareRun] = [fresh(), fresh()];
    const SLICES = 4;
    for (let q = 0; q < SLICES; q++) {
      const [from, to] = [Math.floor((q * N) / SLICES), Math.floor(((q + 1) * N) / SLICES)];
      for (const [pid, url, into] of [
        [cc.child.pid!, base, oursRun],
        [ref.pid!, `http://127.0.0.1:${bare}`, bareRun],
      ] as const) {
        const c0 = cpuMs(pid);
        await registerSlice(url, from, to, into);
        into.cpuMs += cpuMs(pid) - c0;
      }
    }
    const summary = (r: RegRun) => {
      r.lat.sort((x, y) => x - y);
      return { rate: N / (r.ms / 1000), p50: pct(r.lat, 50), p99: pct(r.lat, 99), cpuUs: (r.cpuMs * 1000) / N, answers: r.answers };
    };
    const [regOurs, regBare] = [summary(oursRun), summary(bareRun)];
    const nodes = regOurs.answers.map((a, i) => ({ node_id: a.node_id, agent_token: a.agent_token, facts_hash: bodies[i]!.factsHash }));

    // Phase 2: check-ins spread over all N nodes, against Crashcart and the bare route.
    const run = (url: string) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        let k = 0;
        autocannon(
          {
            url,
            connections: CONNS,
            duration: SECONDS,
            requests: [
              {
                method: 'POST',
                path: '/api/v1/checkin',
                headers: { 'content-type': 'application/json' },
                setupRequest: (req) => {
                  const n = nodes[k++ % nodes.length]!;
                  return {
                    ...req,
                    body: JSON.stringify({
                      node_id: n.node_id,
                      agent_token: n.agent_token,
                      state: 'running',
                      facts_hash: n.facts_hash,
                      first_checkin: false,
                    }),
                  };
                },
              },
            ],
          },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
    const ours = await withCpu(
      cc.child.pid!,
      (r) => r.requests.total,
      () => run(base),
    );
    const theirs = await withCpu(
      ref.pid!,
      (r) => r.requests.total,
      () => run(`http://127.0.0.1:${bare}`),
    );
    const non2xx = ours.non2xx + theirs.non2xx;
    const rows = [
      [
        'register, 64 in flight, servers taking turns by quarters (both fsync before answering; ours group-commits, merges identity, evaluates tags and policies)',
        `${regOurs.rate.toFixed(0)}/s`,
        `${regOurs.p50.toFixed(1)} ms`,
        `${regOurs.p99.toFixed(1)} ms`,
        `${regBare.rate.toFixed(0)}/s`,
        `${regBare.p50.toFixed(1)} / ${regBare.p99.toFixed(1)} ms`,
        (regOurs.rate / regBare.rate).toFixed(2),
        `${regOurs.cpuUs.toFixed(0)} / ${regBare.cpuUs.toFixed(0)}`,
      ],
      [
        'check-in, Crashcart vs bare Fastify route',
        `${ours.requests.average.toFixed(0)}/s`,
        `${ours.latency.p50} ms`,
        `${ours.latency.p99} ms`,
        `${theirs.requests.average.toFixed(0)}/s`,
        `${theirs.latency.p50} / ${theirs.latency.p99} ms`,
        (ours.requests.average / theirs.requests.average).toFixed(2),
        `${ours.cpuUs.toFixed(0)} / ${theirs.cpuUs.toFixed(0)}`,
      ],
    ];
    const table = [
      `### Check-in benchmark (${N} registered nodes, ${CONNS} connections, ${SECONDS} s, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| what | Crashcart rate | p50 | p99 | bare Fastify rate | bare p50 / p99 | ratio (ours / bare) | server CPU per request, µs (ours / bare) |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `Errors: ${non2xx} non-2xx answers, ${ours.errors + theirs.errors} socket errors. Load average at the end: ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}. ${SHIPPED_NOTE}.`,
      '',
    ].join('\n');
    process.stdout.write(table + '\n');
    await fs.writeFile(path.join(REPO_ROOT, 'bench', 'checkin', 'RESULTS.md'), table);
    if (non2xx > 0) process.exitCode = 1;
  } finally {
    // Waited for: with --profile the CPU profile is written as the server exits.
    await cc.stop();
    ref.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main();
