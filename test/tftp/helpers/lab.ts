/**
 * A two-namespace lab for TFTP tests and the bench: a server namespace and a
 * client namespace joined by a veth pair (10.99.0.1 <-> 10.99.0.2). Nothing
 * touches the host's namespace; everything is removed by `destroy()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TftpStats } from '../../../server/tftp/stats.ts';

/** Repository root (for bin/run-ts.mjs). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
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

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args, 15_000);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

/** A created lab. */
export interface Lab {
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

/** Create the two namespaces and the veth between them (MTU default 1500). */
export async function createLab(tag: string, mtu = 1500): Promise<Lab> {
  const serverNs = `cc-tftp-${process.pid}-${tag}-s`;
  const clientNs = `cc-tftp-${process.pid}-${tag}-c`;
  const children = new Set<ChildProcess>();
  await must('ip', ['netns', 'add', serverNs]);
  await must('ip', ['netns', 'add', clientNs]);
  await must('ip', [
    'link',
    'add',
    'vs',
    'netns',
    serverNs,
    'mtu',
    String(mtu),
    'type',
    'veth',
    'peer',
    'name',
    'vc',
    'netns',
    clientNs,
    'mtu',
    String(mtu),
  ]);
  for (const [ns, dev, ip] of [
    [serverNs, 'vs', SERVER_IP],
    [clientNs, 'vc', CLIENT_IP],
  ] as const) {
    await must('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev]);
    await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return {
    serverNs,
    clientNs,
    client: (cmd, args, t) => run('ip', ['netns', 'exec', clientNs, cmd, ...args], t),
    server: (cmd, args, t) => run('ip', ['netns', 'exec', serverNs, cmd, ...args], t),
    spawnServer(cmd, args) {
      const c = spawn('ip', ['netns', 'exec', serverNs, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(c);
      c.on('exit', () => children.delete(c));
      return c;
    },
    async destroy() {
      for (const c of children) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
      // `ip netns exec` execs the command, so the PID above is the server itself; give exits a moment.
      for (let i = 0; i < 50 && children.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      await run('ip', ['netns', 'del', serverNs]);
      await run('ip', ['netns', 'del', clientNs]);
    },
  };
}

/** Crashcart's TFTP plugin running in the server namespace. */
export interface CrashcartChild {
  port: number;
  /** The server process (`ip netns exec` and taskset exec it, so this is node itself). */
  pid: number;
  stats(): Promise<TftpStats>;
  events(): Promise<Array<{ type: string; message: string; node_id: number | null; data: Record<string, unknown> }>>;
  stop(): Promise<void>;
}

/** Start test/tftp/helpers/serve-child.ts in the lab's server namespace (under `taskset -c CPUS` when given). */
export async function startCrashcart(lab: Lab, args: Record<string, unknown>, cpus: string | null = null): Promise<CrashcartChild> {
  const argv = [
    path.join(REPO, 'bin/run-ts.mjs'),
    path.join(REPO, 'test/tftp/helpers/serve-child.ts'),
    JSON.stringify({ iface: 'vs', ip: SERVER_IP, ...args }),
  ];
  const child = cpus ? lab.spawnServer('taskset', ['-c', cpus, process.execPath, ...argv]) : lab.spawnServer(process.execPath, argv);
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(v: Record<string, unknown>) => void> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l) as Record<string, unknown>));
  const next = (cmd?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`TFTP child did not answer ${cmd ?? 'ready'}: ${stderr}`)), 20_000);
      waiting.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
      if (cmd) child.stdin!.write(cmd + '\n');
    });
  const ready = await next();
  return {
    port: ready.ready as number,
    pid: child.pid!,
    stats: async () => (await next('stats')).stats as TftpStats,
    events: async () => (await next('events')).events as Awaited<ReturnType<CrashcartChild['events']>>,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.write('stop\n');
      }),
  };
}
