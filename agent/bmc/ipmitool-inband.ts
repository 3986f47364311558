/**
 * ipmitool over the local IPMI interface (`-I open`: the kernel's ipmi_si + ipmi_devintf drivers, KCS/SMIC/BT
 * or SSIF). Run with execFile (no shell), LC_ALL=C and a timeout; a missing device is said plainly, because
 * "Could not open device" alone does not tell an operator whether the machine has a BMC at all.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { EnrolError, type IpmiRunner } from './enrol-bmc.ts';

/** Where ipmi_devintf puts the device (udev naming differs between distributions). */
export const IPMI_DEVICES = ['/dev/ipmi0', '/dev/ipmi/0', '/dev/ipmidev/0'] as const;
/** One in-band command; a BMC answers in milliseconds, a busy one in seconds. */
export const INBAND_TIMEOUT_MS = 30_000;

/** The device ipmitool will open, or an EnrolError saying there is none. */
export async function ipmiDevice(devices: readonly string[] = IPMI_DEVICES): Promise<string> {
  for (const d of devices)
    if (
      await access(d).then(
        () => true,
        () => false,
      )
    )
      return d;
  throw new EnrolError(
    `no in-band IPMI interface (${devices.join(', ')} missing): the machine has no BMC, or the ipmi_si driver found no KCS/SSIF/BT interface; set the BMC by hand`,
  );
}

/** A runner for `ipmitool -I open ARGS`. */
export function inbandRunner(o: { binary?: string; timeoutMs?: number } = {}): IpmiRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        o.binary ?? 'ipmitool',
        ['-I', 'open', ...args],
        {
          timeout: o.timeoutMs ?? INBAND_TIMEOUT_MS,
          killSignal: 'SIGKILL',
          maxBuffer: 1 << 20,
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          // The arguments are not repeated: one of them is the new password.
          const what = `ipmitool ${args.slice(0, 3).join(' ')}`;
          if (e.code === 'ENOENT')
            return reject(new EnrolError('ipmitool is not installed in the microkernel; rebuild it with the ipmitool package'));
          if (e.killed) return reject(new EnrolError(`${what} did not finish within ${o.timeoutMs ?? INBAND_TIMEOUT_MS} ms (a hung BMC)`));
          reject(new EnrolError(`${what} failed: ${(stderr || e.message).trim().split('\n').slice(0, 2).join(' ').slice(0, 300)}`));
        },
      );
      child.stdin?.end();
    });
}
