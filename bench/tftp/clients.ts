/**
 * The TFTP bench's clients, shared by run.ts and phases.ts: a command in the lab's client namespace (under taskset
 * when pinned), and the arguments of one curl process running N transfers of a file at once.
 */
import { SERVER_IP, type Lab } from '../../test/tftp/helpers/lab.ts';

/** `cmd args`, in the client namespace, under `taskset -c CPUS` when given. */
export const clientRun = (lab: Lab, cpus: string | null, cmd: string, args: string[], timeoutMs?: number) =>
  cpus ? lab.client('taskset', ['-c', cpus, cmd, ...args], timeoutMs) : lab.client(cmd, args, timeoutMs);

/**
 * curl running `count` reads of `file` at once (`--parallel`; it asks for tsize, blksize 1468 and timeout 6), each
 * to /dev/null, printing each transfer's byte count on a line of its own.
 */
export function curlArgs(count: number, file: string): string[] {
  const args = ['--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', String(count)];
  args.push('--tftp-blksize', '1468', '--max-time', '30', '--write-out', '%{size_download}\n');
  for (let i = 0; i < count; i++) args.push('-o', '/dev/null', `tftp://${SERVER_IP}/${file}`);
  return args;
}
