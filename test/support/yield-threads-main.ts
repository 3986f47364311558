/**
 * test/system/background-threads.test.ts's child: a fresh Node process (so the lowered threads are its own, not the
 * test runner's) that starts libuv's pool, calls yieldBackgroundThreads with the CPU count given as argv[2] (and
 * without the sched-idle addon when argv[3] is `no-addon`), and prints each of its threads (tid, comm, nice,
 * scheduling policy, blocked signals) and what the call returned, as one JSON line.
 */
import fs from 'node:fs';
import { yieldBackgroundThreads } from '../../server/system/background-threads.ts';

await fs.promises.readFile('/proc/self/status'); // libuv's pool threads exist from here on
const result =
  process.argv[3] === 'no-addon'
    ? yieldBackgroundThreads(Number(process.argv[2]), undefined, null)
    : yieldBackgroundThreads(Number(process.argv[2]));
const threads = fs.readdirSync('/proc/self/task').map((t) => {
  const stat = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  const status = fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8');
  return {
    tid: Number(t),
    comm: fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(),
    nice: Number(fields[16]), // stat field 19
    policy: Number(fields[38]), // stat field 41: 0 SCHED_OTHER, 5 SCHED_IDLE
    sigBlk: /^SigBlk:\s*(\S+)/m.exec(status)![1],
  };
});
process.stdout.write(`${JSON.stringify({ pid: process.pid, result, threads })}\n`);
