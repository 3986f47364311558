/**
 * The three TFTP servers of the bench, each started in the lab's server
 * namespace on 10.99.0.1:69 with the same root: Crashcart, tftpd-hpa, dnsmasq.
 * `cpus` pins the server with taskset (the pinned rows: server on one core,
 * the client on the other).
 */
import type { ChildProcess } from 'node:child_process';
import { startCrashcart, SERVER_IP, type Lab } from '../../test/tftp/helpers/lab.ts';

/** A running server. */
export interface BenchServer {
  name: string;
  /** The server process (tftpd-hpa's per-transfer children are counted once they exit: cutime/cstime). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts one server. */
export type StartServer = (lab: Lab, root: string, cpus: string | null) => Promise<BenchServer>;

async function waitPort(lab: Lab, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await lab.server('ss', ['-Hlun', `sport = :${port}`]);
    if (r.stdout.trim().length > 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on UDP ${port} in ${lab.serverNs}`);
}

function killed(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.pid === undefined) return resolve();
    const pid = c.pid;
    // dnsmasq can ignore SIGTERM while TFTP transfers are stuck: escalate after 2 s.
    const hard = setTimeout(() => process.kill(pid, 'SIGKILL'), 2000);
    c.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    process.kill(pid, 'SIGTERM');
  });
}

/**
 * The peer in the server namespace, under taskset when pinned. Its output is read and dropped: `dnsmasq --no-daemon`
 * logs every transfer to stderr as well as to syslog, and a pipe nobody reads fills up (64 KiB) and stops it in
 * write(2). Until 2026-12-06 nothing read it, and dnsmasq stopped answering after about 400 transfers since its
 * start; bench/tftp starts every server afresh per pass (at most 301 transfers), so no table ran into it.
 */
function spawnPinned(lab: Lab, cpus: string | null, cmd: string, args: string[]): ChildProcess {
  const c = cpus ? lab.spawnServer('taskset', ['-c', cpus, cmd, ...args]) : lab.spawnServer(cmd, args);
  c.stdout?.resume();
  c.stderr?.resume();
  return c;
}

/** Crashcart's TFTP plugin (pinned to the veth, blksize capped by its MTU). */
export const crashcart: StartServer = async (lab, root, cpus) => {
  const s = await startCrashcart(lab, { roots: [root], limits: { maxTransfers: 512, maxPerClient: 512 } }, cpus);
  return { name: 'Crashcart', pid: s.pid, stop: () => s.stop() };
};

/** The same plugin with every transfer in JavaScript (`--tftp-js`): the native pump's A/B in the same run. */
export const crashcartJs: StartServer = async (lab, root, cpus) => {
  const s = await startCrashcart(lab, { roots: [root], limits: { maxTransfers: 512, maxPerClient: 512 }, tftpJs: true }, cpus);
  return { name: 'Crashcart --tftp-js', pid: s.pid, stop: () => s.stop() };
};

/** tftpd-hpa 5.2 in listen mode, chrooted (-s) to the root; its default user is nobody. */
export const tftpdHpa: StartServer = async (lab, root, cpus) => {
  const c = spawnPinned(lab, cpus, 'in.tftpd', ['--listen', '--foreground', '--address', `${SERVER_IP}:69`, '--secure', root]);
  await waitPort(lab, 69);
  return { name: 'tftpd-hpa', pid: c.pid!, stop: () => killed(c) };
};

/** dnsmasq's TFTP only (no DNS, no DHCP); --tftp-max raised so the 100-client row measures speed, not its cap of 50. */
export const dnsmasq: StartServer = async (lab, root, cpus) => {
  const c = spawnPinned(lab, cpus, 'dnsmasq', [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--enable-tftp',
    `--tftp-root=${root}`,
    `--listen-address=${SERVER_IP}`,
    '--bind-interfaces',
    '--tftp-max=1000',
    '--user=root',
    '--pid-file=',
  ]);
  await waitPort(lab, 69);
  return { name: 'dnsmasq', pid: c.pid!, stop: () => killed(c) };
};
