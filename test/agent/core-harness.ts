/**
 * The REAL appliance core (`crashcart serve --lab sim:0`) for agent tests, as a child process through the test
 * kit's starter: admin API access, and stop/restart on the same node-plane port and data dir (the agent's
 * reconnect is the point). Plus the iPXE walk the agent tests start machines with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { classifyBootScript, expandIpxe, chainUrl, type IpxeVars } from '../../server/lab/ipxe-sim.ts';
import { request } from '../../agent/loop/client.ts';

/** A running core. */
export interface Core {
  baseUrl: string;
  adminUrl: string;
  dataDir: string;
  token: string;
  admin(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', p: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
  /** Start again on the same node-plane port and data dir (the agent under test keeps its server URL). */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Start the core through the test kit's whole-process starter; `rateLimit` 0 turns the node-plane limiter off. */
export async function startCore(opts: { rateLimit?: number } = {}): Promise<Core> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-core-'));
  // The simulated machines boot the working tree's microkernel, as `npm start` does (the kit's default is none).
  const flags = ['--lab', 'sim:0', '--microkernel', path.join(REPO_ROOT, 'build', 'out', 'microkernel')].concat([
    '--log-level',
    'warn',
    '--rate-limit',
    String(opts.rateLimit ?? 0),
  ]);
  let proc: ProcessAppliance | undefined;
  let httpPort: number | undefined;
  const core: Core = {
    baseUrl: '',
    adminUrl: '',
    dataDir,
    token: '',
    async start() {
      proc = await spawnAppliance(flags, { dataDir, env: { NO_COLOR: '1' }, ...(httpPort ? { httpPort } : {}) });
      core.baseUrl = proc.nodeUrl;
      httpPort = Number(new URL(proc.nodeUrl).port);
      // The admin plane listens on a port of its own choosing each start.
      core.adminUrl = proc.adminUrl;
      core.token = await proc.token();
    },
    async stop() {
      const p = proc;
      proc = undefined;
      await p?.stop();
    },
    async dispose() {
      await core.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async admin(method, p, body) {
      const r = await fetch(`${core.adminUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${core.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        // keep text
      }
      return { status: r.status, json };
    },
  };
  await core.start();
  return core;
}

/** Network-boot one machine as iPXE would and return what /boot said (the enrolment token for new nodes). */
export async function pxeBoot(baseUrl: string, vars: IpxeVars): Promise<ReturnType<typeof classifyBootScript>> {
  const first = await request('GET', `${baseUrl}/boot.ipxe`, undefined);
  const url = chainUrl(first.text);
  if (!url) throw new Error(`no chain in /boot.ipxe: ${first.text.slice(0, 200)}`);
  const r = await request('GET', expandIpxe(url, vars), undefined);
  return classifyBootScript(r.text);
}

/** Poll until `fn` returns a truthy value (bounded in count and time), else throw with `what`. */
export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, stepMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
