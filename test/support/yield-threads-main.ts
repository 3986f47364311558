/**
 * test/system/background-threads.test.ts's child: a fresh Node process (so the changed threads are its own, not the
 * test runner's) that starts libuv's pool, calls yieldBackgroundThreads and mainThreadFirst with the CPU count given
 * as argv[2] (and without the sched-policy addon when argv[3] is `no-addon`), then starts a worker thread and a
 * process, and prints each of its threads (tid, comm, nice, scheduling policy and real-time priority, blocked
 * signals), the worker's and the process's policy, and what the calls returned, as one JSON line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { mainThreadFirst, yieldBackgroundThreads } from '../../server/system/background-threads.ts';
import '../../server/store/group-fsync.ts'; // loads native/fsync-thread.c: its thread `cc-fsync` runs from here on

await fs.promises.readFile('/proc/self/status'); // libuv's pool threads exist from here on
const cpus = Number(process.argv[2]);
const noAddon = process.argv[3] === 'no-addon';
const result = noAddon ? yieldBackgroundThreads(cpus, undefined, null) : yieldBackgroundThreads(cpus);
const main = noAddon ? mainThreadFirst(cpus, null) : mainThreadFirst(cpus);

/** Nice, policy and real-time priority of a /proc stat line (fields 19, 41 and 40). */
function sched(stat: string): { nice: number; policy: number; rtPriority: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return { nice: Number(fields[16]), policy: Number(fields[38]), rtPriority: Number(fields[37]) };
}

const threads = fs.readdirSync('/proc/self/task').map((t) => {
  const status = fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8');
  return {
    tid: Number(t),
    comm: fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(),
    ...sched(fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8')),
    sigBlk: /^SigBlk:\s*(\S+)/m.exec(status)![1],
  };
});
// Made after the calls, by the main thread: a thread and a process it creates.
const worker = await new Promise<ReturnType<typeof sched>>((resolve, reject) => {
  const w = new Worker(
    "const fs = require('node:fs'); require('node:worker_threads').parentPort.postMessage(fs.readFileSync('/proc/thread-self/stat', 'utf8'));",
    { eval: true },
  );
  w.once('message', (stat: string) => resolve(sched(stat)));
  w.once('error', reject);
});
const child = sched(execFileSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }));
process.stdout.write(`${JSON.stringify({ pid: process.pid, result, main, threads, worker, child })}\n`);
