/**
 * ipmitool over RMCP+ to a test BMC, as an IpmiRunner: the agent's in-band enrolment sends the same IPMI
 * commands over KCS in the microkernel; here they reach ipmi_sim over its LAN port with its admin user.
 */
import { execFile } from 'node:child_process';
import type { IpmiRunner } from '../../../agent/bmc/enrol-bmc.ts';

/** A runner for `ipmitool -I lanplus ... ARGS` (optionally inside a namespace). */
export function lanRunner(t: { addr: string; port: number; username: string; password: string; netns?: string }): IpmiRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      const ipmi = [
        'ipmitool',
        '-I',
        'lanplus',
        '-H',
        t.addr,
        '-p',
        String(t.port),
        '-U',
        t.username,
        '-E',
        '-C',
        '3',
        '-N',
        '2',
        '-R',
        '2',
        ...args,
      ];
      const [cmd, ...rest] = t.netns ? ['ip', 'netns', 'exec', t.netns, ...ipmi] : ipmi;
      execFile(
        cmd!,
        rest,
        { env: { PATH: process.env['PATH'], LC_ALL: 'C', IPMI_PASSWORD: t.password }, timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${args.slice(0, 3).join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
      );
    });
}

/** Run one command as `username`/`password`; resolves with the exit status and output (for login checks). */
export function lanTry(t: { addr: string; port: number; netns?: string }, username: string, password: string, args: string[]) {
  return lanRunner({ ...t, username, password })(args).then(
    (out) => ({ ok: true as const, out }),
    (e: Error) => ({ ok: false as const, out: e.message }),
  );
}
