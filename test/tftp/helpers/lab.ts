/**
 * The TFTP tests' and bench's lab, on the test kit's namespace lab: a server namespace and a client
 * namespace joined by a veth pair (10.99.0.1 <-> 10.99.0.2). Nothing touches the host's namespace;
 * everything is removed by `destroy()`.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../../server/boot/microkernel-assets.ts';
import { Lab as NetnsLab } from '../../support/netns-lab.ts';
import { startTftpPlugin, type TftpPluginArgs, type TftpPluginProc } from '../../support/tftp-plugin.ts';

/** Repository root (for bin/run-ts.mjs). */
export const REPO = REPO_ROOT;
/** Server side address. */
export const SERVER_IP = '10.99.0.1';
/** Client side address. */
export const CLIENT_IP = '10.99.0.2';

/** Run a command; resolve with stdout/stderr/code, never throws on exit code. */
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A created lab. */
export interface Lab {
  /** The kit's lab underneath (server namespace `s`, client namespace `c`). */
  netns: NetnsLab;
  serverNs: string;
  clientNs: string;
  /** Run a command in the client namespace. */
  client(cmd: string, args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Run a command in the server namespace. */
  server(cmd: string, args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Spawn a long-running process in the server namespace (killed by destroy). */
  spawnServer(cmd: string, args: string[]): ChildProcess;
  destroy(): Promise<void>;
}

/** Create the two namespaces (cc-tftp-<pid>-<tag>-s and -c) and the veth between them (MTU default 1500). */
export async function createLab(tag: string, mtu = 1500): Promise<Lab> {
  const netns = new NetnsLab('tftp', tag);
  netns.addNs('s');
  netns.addNs('c');
  netns.plug('s', 'vs', `${SERVER_IP}/24`, { peerNs: 'c', peerIf: 'vc', peerCidr: `${CLIENT_IP}/24`, mtu });
  const [serverNs, clientNs] = [netns.ns('s'), netns.ns('c')];
  return {
    netns,
    serverNs,
    clientNs,
    client: (cmd, args, t) => run('ip', ['netns', 'exec', clientNs, cmd, ...args], t),
    server: (cmd, args, t) => run('ip', ['netns', 'exec', serverNs, cmd, ...args], t),
    spawnServer: (cmd, args) => netns.spawnIn('s', cmd, args),
    destroy: () => netns.cleanup(),
  };
}

/** Crashcart's TFTP plugin running in the server namespace. */
export type CrashcartChild = TftpPluginProc;

/** The kit's TFTP plugin on the lab's server side (`vs`, 10.99.0.1), under `taskset -c CPUS` when given. */
export function startCrashcart(lab: Lab, args: Omit<TftpPluginArgs, 'iface' | 'ip'>, cpus: string | null = null): Promise<CrashcartChild> {
  return startTftpPlugin(lab.netns, 's', { iface: 'vs', ip: SERVER_IP, ...args }, cpus);
}
