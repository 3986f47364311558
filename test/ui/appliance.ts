/**
 * A real appliance for the browser tests: `node bin/crashcart.mjs serve` on loopback ports
 * with the simulated rack, in a fresh data directory; stopped (by its pid) afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running appliance. */
export interface Appliance {
  adminUrl: string;
  loginUrl: string;
  nodeUrl: string;
  token: string;
  dataDir: string;
  /** JSON call to the admin API with the token. */
  api: <T>(method: string, p: string, body?: unknown) => Promise<T>;
  stop: () => Promise<void>;
  output: () => string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Start an appliance; resolves when it printed its login link. */
export async function startAppliance(extra: string[] = ['--lab', 'sim:20']): Promise<Appliance> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cc-ui-e2e-'));
  const [adminPort, httpPort] = [await freePort(), await freePort()];
  const args = [
    'bin/crashcart.mjs',
    'serve',
    '--data-dir',
    dataDir,
    '--admin-listen',
    `127.0.0.1:${adminPort}`,
    '--http-port',
    String(httpPort),
    '--log-level',
    'warn',
    '--rate-limit',
    '0',
    ...extra,
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    // Test the sources, not whatever bundle a build left in dist/.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /Crashcart UI:\s*(\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`appliance exited with ${code}:\n${out}`)));
  });
  const adminUrl = new URL(loginUrl).origin;
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${adminUrl}${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { adminUrl, loginUrl, nodeUrl: `http://127.0.0.1:${httpPort}`, token, dataDir, api, stop, output: () => out };
}
