/**
 * The QEMU suites' appliance: the real `crashcart serve --iface br0` started by the kit's one starter
 * (`spawnAppliance`) inside the test's namespace with serve's own defaults (log level, rate limit, microkernel
 * lookup) and its log kept in a file, plus a small admin-API client. The admin plane listens on 127.0.0.1
 * inside that namespace, which the test process cannot reach directly, so requests go through
 * `ip netns exec NS curl`.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Node } from '../../contract/node.ts';
import type { CcEvent } from '../../contract/events.ts';
import { spawnAppliance, type ProcessAppliance } from './appliance.ts';
import type { BridgedNet } from './netns-lab.ts';

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
  httpPort: number;
  /** `--microkernel DIR`; omitted: serve finds it itself (data dir first, docs/prepare.md). */
  microkernelDir?: string;
  logFile: string;
  /** Command run inside the namespace that execs serve (e.g. `unshare --mount ...` hiding /boot), outermost first. */
  wrap?: string[];
}

/**
 * The spec fields a QEMU suite takes from its bridged lab network: the namespace, the bridge, the appliance's
 * address and full DHCP's pool .100-.150 of that /24, or proxy mode (no pool) beside a site DHCP server.
 */
export function onBridge(
  net: BridgedNet,
  dhcp: 'full' | 'proxy' = 'full',
): Pick<ApplianceSpec, 'ns' | 'iface' | 'address' | 'prefix' | 'range'> {
  const subnet = net.address.replace(/\.\d+$/, '');
  return {
    ns: net.ns,
    iface: net.bridge,
    address: net.address,
    prefix: net.prefix,
    range: dhcp === 'full' ? [`${subnet}.100`, `${subnet}.150`] : null,
  };
}

/** Throw with the fix unless `dir` holds a built microkernel (kernel and initrd). */
export function requireMicrokernel(dir: string): void {
  for (const f of ['vmlinuz', 'initrd.img'])
    if (!existsSync(path.join(dir, f)))
      throw new Error(
        `no microkernel in ${dir}\n  fix: bash scripts/ensure-test-deps.sh (builds it), or node build/agent-bundle.mjs && npm run build:microkernel [-- --arch arm64]`,
      );
}

/** A running appliance. */
export interface Appliance {
  spec: ApplianceSpec;
  /** The process as the kit's starter returned it. */
  serve: ProcessAppliance;
  proc: ChildProcess;
  pid: number;
  readonly exited: boolean;
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

/** Start `crashcart serve` in the namespace; resolves once it is up and its admin API answers from inside. */
export async function startAppliance(spec: ApplianceSpec, timeoutMs = 90_000): Promise<Appliance> {
  const flags = [
    ...['--iface', spec.iface, '--address', `${spec.address}/${spec.prefix}`],
    ...(spec.range ? ['--dhcp', 'full', '--range', `${spec.range[0]}-${spec.range[1]}`] : ['--dhcp', 'proxy']),
    ...(spec.microkernelDir ? ['--microkernel', spec.microkernelDir] : []),
  ];
  const p = await spawnAppliance(flags, {
    dataDir: spec.dataDir,
    netns: spec.ns,
    httpPort: spec.httpPort,
    repo: spec.repo,
    logFile: spec.logFile,
    testDefaults: false,
    timeoutMs,
    ...(spec.wrap ? { wrap: spec.wrap } : {}),
  });
  const a: Appliance = {
    spec,
    serve: p,
    proc: p.child,
    pid: p.child.pid!,
    get exited() {
      return p.exited();
    },
    token: await p.token(),
    api: async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const extra = body === undefined ? [] : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)];
      const r = await curlInNs(spec.ns, ['-X', method, '-H', `authorization: Bearer ${a.token}`, ...extra, `${p.adminUrl}${url}`]);
      if (r.status < 200 || r.status > 299) throw new Error(`admin API ${method} ${url} -> ${r.status}: ${r.body.slice(0, 2000)}`);
      return JSON.parse(r.body) as T;
    },
    nodePlane: (url: string) => curlInNs(spec.ns, [`http://${spec.address}:${spec.httpPort}${url}`]),
  };
  await a.api('GET', '/api/v1/nodes').catch(async (e: unknown) => {
    await p.stop();
    throw e;
  });
  return a;
}

/** Stop the appliance by its PID: SIGTERM, then SIGKILL after 5 s. */
export async function stopAppliance(a: Appliance): Promise<void> {
  await a.serve.stop();
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
