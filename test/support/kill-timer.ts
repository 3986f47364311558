/**
 * The kill timer of every test that spawns a CLI and waits for it to end: a run that hangs is killed by its PID
 * (SIGKILL) after `ms`, so its test fails on the exit status (null: killed) with what the run printed, instead of
 * waiting until the test's own timeout and leaving the process behind. Pick `ms` below that timeout.
 */
import type { ChildProcess } from 'node:child_process';

/** SIGKILL `child` if it is still running after `ms`; the timer ends with the child (or its failure to start). */
export function killAfter(child: ChildProcess, ms: number): void {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const clear = () => clearTimeout(timer);
  child.once('exit', clear);
  child.once('error', clear);
}
