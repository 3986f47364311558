/**
 * The burn-in's CPU and memory stressors: worker threads, each running for a set time and counting its
 * operations and the ones that came out wrong. A CPU worker hashes a fixed buffer (SHA-256, the CPU's
 * vector and integer units) and sums square roots (the FPU), comparing each result with the one the main
 * thread computed: a core that miscalculates under heat shows as failures, not as a crash. The memory
 * worker fills its share of RAM with patterns (0x55.., 0xAA.., each word's own index) and reads them back.
 * The code runs as an eval'd worker so the single-file agent bundle needs no second file.
 */
import { createHash } from 'node:crypto';

/** What a worker reports at its end. */
export interface StressCount {
  ops: number;
  failures: number;
  bytes: number;
}

const CPU_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const buf = Buffer.alloc(65536);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 255;
const end = Date.now() + workerData.ms;
let ops = 0, failures = 0;
// At least one round, however late the worker started: a count of zero would prove nothing.
do {
  if (crypto.createHash('sha256').update(buf).digest('hex') !== workerData.sha) failures++;
  let s = 0;
  for (let i = 1; i <= 20000; i++) s += Math.sqrt(i);
  if (s !== workerData.sum) failures++;
  ops += 2;
} while (Date.now() < end);
parentPort.postMessage({ ops, failures, bytes: 0 });
`;

// Each block is written whole, then read back whole (so the read-back comes from RAM, not the cache), in
// slices of a million words with a look at the clock between them: a slow machine still stops on time.
const MEM_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const CHUNK = 64 * 1024 * 1024;
const SLICE = 1 << 20;
const end = Date.now() + workerData.ms;
const blocks = [];
for (let left = workerData.bytes; left > 0 && (blocks.length === 0 || Date.now() < end); left -= CHUNK) blocks.push(new Uint32Array(Math.min(CHUNK, left) >>> 2));
let ops = 0, failures = 0, pass = 0;
const value = (kind, i) => (kind === 0 ? 0x55555555 : kind === 1 ? 0xaaaaaaaa : i >>> 0);
// Until the time is up, but at least one slice written and read back (a count of zero would prove nothing).
outer: while (ops === 0 || Date.now() < end) {
  const kind = pass++ % 3;
  for (const b of blocks) {
    for (let s = 0; s < b.length; s += SLICE) {
      const e = Math.min(b.length, s + SLICE);
      for (let i = s; i < e; i++) b[i] = value(kind, i);
      if (ops > 0 && Date.now() >= end) break outer;
    }
    for (let s = 0; s < b.length; s += SLICE) {
      const e = Math.min(b.length, s + SLICE);
      for (let i = s; i < e; i++) if (b[i] !== value(kind, i)) failures++;
      ops++;
      if (Date.now() >= end) break outer;
    }
  }
}
parentPort.postMessage({ ops, failures, bytes: blocks.reduce((n, b) => n + b.byteLength, 0) });
`;

/** The values a CPU worker must reproduce (computed here, on the main thread). */
export function cpuExpectations(): { sha: string; sum: number } {
  const buf = Buffer.alloc(65536);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 255;
  let s = 0;
  for (let i = 1; i <= 20000; i++) s += Math.sqrt(i);
  return { sha: createHash('sha256').update(buf).digest('hex'), sum: s };
}

async function runWorker(code: string, data: Record<string, unknown>, graceMs: number): Promise<StressCount> {
  // Loaded here, not with the agent: only a burn-in needs threads (every module less is start time on a slow CPU).
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: data });
    // A worker that never answers (a hung core) must not hang the task.
    const timer = setTimeout(() => void w.terminate().then(() => reject(new Error('a stress worker did not finish'))), graceMs);
    w.once('message', (m: StressCount) => {
      clearTimeout(timer);
      resolve(m);
      void w.terminate();
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Run one stressor (`cpu`: needs `ms`, `sha`, `sum`; `memory`: `ms`, `bytes`) and wait for its count. */
export function runStressWorker(kind: 'cpu' | 'memory', data: Record<string, unknown>): Promise<StressCount> {
  return runWorker(kind === 'cpu' ? CPU_CODE : MEM_CODE, data, Number(data['ms']) + 120_000);
}

/** Run `workers` CPU stressors and one memory stressor over `memBytes` for `ms`. */
export async function stress(workers: number, memBytes: number, ms: number): Promise<{ cpu: StressCount[]; memory: StressCount }> {
  const want = cpuExpectations();
  const grace = ms + 120_000;
  const cpu = Array.from({ length: workers }, () => runWorker(CPU_CODE, { ms, ...want }, grace));
  const memory = memBytes > 0 ? runWorker(MEM_CODE, { ms, bytes: memBytes }, grace) : Promise.resolve({ ops: 0, failures: 0, bytes: 0 });
  // Both sets run at once: the memory stressor competes with the CPU ones, as in a real workload.
  return { cpu: await Promise.all(cpu), memory: await memory };
}
