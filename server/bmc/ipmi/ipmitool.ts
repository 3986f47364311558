/**
 * Run `ipmitool -I lanplus` against one BMC with execFile (no shell), the way
 * MAAS, Ironic and bmclib do. The password never appears on the command line
 * (`ps` and /proc/PID/cmdline are world-readable): `-E` makes ipmitool read
 * it from IPMI_PASSWORD in the child's environment, which only the same user
 * and root can read. Standard input is closed at once, so ipmitool can never
 * sit at a "Password:" prompt.
 */
import { execFile } from 'node:child_process';
import { ccError } from '../../errors/cc-error.ts';
import { redactText } from '../../secrets/redact.ts';
import type { BmcTarget } from '../driver.ts';
import { classifyIpmitoolFailure } from './classify.ts';

/** Cipher suite 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128; IPMI 2.0 22.15.2): every IPMI 2.0 BMC has it, and MAAS uses it by default. */
export const DEFAULT_IPMI_CIPHER_SUITE = 3;
/** ipmitool's own per-packet timeout (`-N`, seconds) and retries (`-R`): a LAN BMC answers in milliseconds or not at all. */
const PACKET_TIMEOUT_S = 2;
const PACKET_RETRIES = 2;
/** Nothing ipmitool prints for our commands comes near this. */
const MAX_OUTPUT = 1024 * 1024;

/** How to run ipmitool (tests point `binary` or `env.PATH` elsewhere). */
export interface IpmitoolOptions {
  /** Program name or path; default `ipmitool` from PATH. */
  binary?: string;
  /** Where PATH comes from (default process.env); the child gets only PATH, LC_ALL=C and IPMI_PASSWORD. */
  env?: NodeJS.ProcessEnv;
  /** Kill the run after this long (ms). */
  timeoutMs: number;
}

/** What one successful run printed. */
export interface IpmitoolOutput {
  stdout: string;
  stderr: string;
}

/** The argument list for one command (exported for the test that proves no secret is in it). */
export function ipmitoolArgs(t: BmcTarget, command: readonly string[]): string[] {
  return [
    '-I',
    'lanplus',
    '-H',
    t.address,
    '-p',
    String(t.port),
    '-U',
    t.username,
    '-E',
    '-C',
    String(t.ipmi_cipher_suite ?? DEFAULT_IPMI_CIPHER_SUITE),
    '-N',
    String(PACKET_TIMEOUT_S),
    '-R',
    String(PACKET_RETRIES),
    // -v: the RAKP reasons (wrong user, wrong password) are printed only in verbose mode.
    '-v',
    ...command,
  ];
}

/** Run one ipmitool command; failures become catalog errors (missing tool, timeout, auth, unreachable, refused). */
export function runIpmitool(t: BmcTarget, command: readonly string[], opts: IpmitoolOptions): Promise<IpmitoolOutput> {
  const where = `IPMI BMC ${t.address}:${t.port}`;
  // A minimal environment: the appliance's own variables (tokens, paths) are none of ipmitool's business,
  // and C messages are what classify.ts reads.
  const base = opts.env ?? process.env;
  const env = { PATH: base['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', IPMI_PASSWORD: t.password };
  return new Promise((resolve, reject) => {
    const child = execFile(
      opts.binary ?? 'ipmitool',
      ipmitoolArgs(t, command),
      { env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        // A BMC or a broken ipmitool could echo the password back: never let it reach a message.
        const out = redactText(stdout, [t.password]);
        const errText = redactText(stderr, [t.password]);
        if (!err) return resolve({ stdout: out, stderr: errText });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (e.code === 'ENOENT') return reject(ccError('CC_ERR_IPMITOOL_MISSING', `${opts.binary ?? 'ipmitool'} was not found in PATH`));
        if (e.code === 'EACCES') return reject(ccError('CC_ERR_IPMITOOL_MISSING', `${opts.binary ?? 'ipmitool'} is not executable`));
        if (e.killed || e.signal === 'SIGKILL')
          return reject(ccError('CC_ERR_BMC_TIMEOUT', `${where}: ipmitool ${command.join(' ')} ran past ${opts.timeoutMs} ms`));
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return reject(ccError('CC_ERR_BMC_PROTOCOL', `${where}: ipmitool printed more than ${MAX_OUTPUT} bytes`));
        reject(classifyIpmitoolFailure(errText, where));
      },
    );
    child.stdin?.end();
  });
}
