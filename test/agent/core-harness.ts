// Test helper: runs the REAL appliance core (`crashcart serve --lab sim:0`) as a child process on
// loopback ports, gives admin API access, and can stop/restart it on the same port and data dir.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyBootScript, expandIpxe, chainUrl, type IpxeVars } from '../../server/lab/ipxe-sim.ts';
import { request } from '../../agent/loop/client.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START_TIMEOUT_MS = 45_000;

/** A free TCP port on loopback (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A running core. */
export interface Core {
  baseUrl: string;
  adminUrl: string;
  dataDir: string;
  token: string;
  admin(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', p: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let i = 0; Date.now() < deadline && i < 500; i++) {
    if (child.exitCode !== null) throw new Error(`core exited with ${child.exitCode}: ${log()}`);
    try {
      const r = await request('GET', url, undefined, { timeoutMs: 1000 });
      if (r.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`core did not answer on ${url} within ${START_TIMEOUT_MS} ms: ${log()}`);
}

/** Start the core; `rateLimit` 0 turns the node-plane limiter off (fast loops in tests). */
export async function startCore(opts: { rateLimit?: number } = {}): Promise<Core> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-core-'));
  const httpPort = await freePort();
  const adminPort = await freePort();
  let child: ChildProcess | undefined;
  let out = '';
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const args = [
    'bin/crashcart.mjs',
    'serve',
    '--data-dir',
    dataDir,
    '--lab',
    'sim:0',
    '--http-port',
    String(httpPort),
    '--admin-listen',
    `127.0.0.1:${adminPort}`,
    '--log-level',
    'warn',
    '--rate-limit',
    String(opts.rateLimit ?? 0),
  ];
  const core: Core = {
    baseUrl,
    adminUrl,
    dataDir,
    token: '',
    async start() {
      out = '';
      child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      const keep = (b: Buffer) => {
        out = (out + b.toString()).slice(-8000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      // Both planes: the node plane may answer a moment before the admin plane does.
      await waitHealthy(`${baseUrl}/health`, child, () => out);
      await waitHealthy(`${adminUrl}/api/v1/health`, child, () => out);
      if (!core.token)
        core.token = execFileSync(process.execPath, ['bin/crashcart.mjs', 'token', '--data-dir', dataDir], { cwd: ROOT, encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop()!
          .trim();
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
    async dispose() {
      await core.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async admin(method, p, body) {
      const r = await fetch(`${adminUrl}${p}`, {
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
