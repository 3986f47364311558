/**
 * The real appliance as a child process inside the test's namespace (`crashcart serve --iface br0`), and a
 * small admin-API client. The admin plane listens on 127.0.0.1 inside that namespace, which the test
 * process cannot reach directly, so requests go through `ip netns exec NS curl`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Node } from '../../../contract/node.ts';
import type { CcEvent } from '../../../contract/events.ts';

/** How the appliance is started. */
export interface ApplianceSpec {
  repo: string;
  ns: string;
  iface: string;
  address: string;
  prefix: number;
  /** Full DHCP's pool; proxy mode (beside a site DHCP server) has none. */
  range: [string, string] | null;
  dataDir: string;
  adminPort: number;
  httpPort: number;
  /** `--microkernel DIR`; omitted: serve finds it itself (data dir first, docs/prepare.md). */
  microkernelDir?: string;
  logFile: string;
  /** Command the `ip netns exec` runs under (e.g. `unshare --mount ...` hiding /boot), outermost first. */
  wrap?: string[];
}

/** A running appliance. */
export interface Appliance {
  spec: ApplianceSpec;
  proc: ChildProcess;
  pid: number;
  exited: boolean;
  token: string;
  /** Admin API request; throws with status and body on a non-2xx answer. */
  api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<T>;
  /** GET from the node-facing plane (what a booting machine sees). */
  nodePlane(url: string): Promise<{ status: number; body: string }>;
}

/** curl inside the namespace; resolves with status + body. */
function curlInNs(ns: string, args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '30', '-w', '\n%{http_code}', ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err)
          return reject(
            new Error(`curl ${args.join(' ')} failed: ${stderr || err.message}\n  fix: apt-get install curl; check the appliance log`),
          );
        const i = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
      },
    );
  });
}

/** Start `crashcart serve` in the namespace and wait until the admin API answers. */
export async function startAppliance(spec: ApplianceSpec, timeoutMs = 90_000): Promise<Appliance> {
  const args = [
    'netns',
    'exec',
    spec.ns,
    process.execPath,
    path.join(spec.repo, 'bin/crashcart.mjs'),
    'serve',
    '--iface',
    spec.iface,
    '--address',
    `${spec.address}/${spec.prefix}`,
    ...(spec.range ? ['--dhcp', 'full', '--range', `${spec.range[0]}-${spec.range[1]}`] : ['--dhcp', 'proxy']),
    '--data-dir',
    spec.dataDir,
    '--lab',
    'off',
    '--admin-listen',
    `127.0.0.1:${spec.adminPort}`,
    '--http-port',
    String(spec.httpPort),
    ...(spec.microkernelDir ? ['--microkernel', spec.microkernelDir] : []),
  ];
  const log = createWriteStream(spec.logFile);
  const [cmd, ...cmdArgs] = [...(spec.wrap ?? []), 'ip', ...args];
  const proc = spawn(cmd!, cmdArgs, {
    cwd: spec.repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  if (proc.pid === undefined) throw new Error('could not start the appliance');
  const a: Appliance = {
    spec,
    proc,
    pid: proc.pid,
    exited: false,
    token: '',
    api: async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const extra = body === undefined ? [] : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)];
      const r = await curlInNs(spec.ns, [
        '-X',
        method,
        '-H',
        `authorization: Bearer ${a.token}`,
        ...extra,
        `http://127.0.0.1:${spec.adminPort}${url}`,
      ]);
      if (r.status < 200 || r.status > 299) throw new Error(`admin API ${method} ${url} -> ${r.status}: ${r.body.slice(0, 2000)}`);
      return JSON.parse(r.body) as T;
    },
    nodePlane: (url: string) => curlInNs(spec.ns, [`http://${spec.address}:${spec.httpPort}${url}`]),
  };
  proc.on('exit', () => (a.exited = true));
  const tokenFile = path.join(spec.dataDir, 'admin-token');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (a.exited) throw new Error(`crashcart serve exited during start-up; its log:\n${readTail(spec.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`crashcart serve did not answer within ${timeoutMs / 1000} s; its log:\n${readTail(spec.logFile)}`);
    if (existsSync(tokenFile)) {
      a.token = readFileSync(tokenFile, 'utf8').trim();
      const r = await curlInNs(spec.ns, [
        '-H',
        `authorization: Bearer ${a.token}`,
        `http://127.0.0.1:${spec.adminPort}/api/v1/nodes`,
      ]).catch(() => null);
      if (r && r.status === 200) return a;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Stop the appliance by PID (ip netns exec execs node, so the PID is the appliance's). */
export async function stopAppliance(a: Appliance): Promise<void> {
  if (a.exited) return;
  try {
    process.kill(a.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && !a.exited; i++) await new Promise((r) => setTimeout(r, 100));
  if (!a.exited) {
    try {
      process.kill(a.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Last lines of a log file, for failure messages. */
export function readTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Every node the appliance knows. */
export async function listNodes(a: Appliance): Promise<Node[]> {
  return (await a.api<{ nodes: Node[]; total: number }>('GET', '/api/v1/nodes?limit=1000')).nodes;
}

/** The whole event log (the test's appliance is young: one page is enough). */
export async function allEvents(a: Appliance): Promise<CcEvent[]> {
  return (await a.api<{ events: CcEvent[] }>('GET', '/api/v1/events?after=0&limit=10000')).events;
}
