/** Start a real appliance in-process on free loopback ports with a fresh data dir. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { finalizeConfig } from '../../server/config/load.ts';
import { startAppliance, type Appliance, type StartOptions } from '../../server/app.ts';
import { consoleLogger } from '../../server/core/console-logger.ts';
import type { Config } from '../../server/config/schema.ts';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory. */
export function tmpDir(prefix = 'cc-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A lab-less, NIC-less config on loopback. */
export async function testConfig(dataDir: string, over: Partial<Config> = {}): Promise<Config> {
  const httpPort = await freePort();
  const adminPort = await freePort();
  return finalizeConfig({
    iface: null,
    ifindex: null,
    address: null,
    dhcp: 'off',
    range: null,
    force: false,
    dataDir,
    http: { host: '127.0.0.1', port: httpPort },
    publicUrl: `http://127.0.0.1:${httpPort}`,
    admin: { host: '127.0.0.1', port: adminPort, exposed: false, hostnames: [], tls: null, sessionIdleS: 28800, sessionMaxS: 86400 },
    lab: null,
    microkernelDir: null,
    tftpRoot: null,
    efiLoader: 'ipxe.efi',
    logLevel: 'silent',
    rateLimitPerMin: 0,
    pools: [],
    dhcpOptions: [],
    conflictCheck: false,
    ports: { dhcp: 67, proxy: 4011, tftp: 69 },
    ...over,
  });
}

/** A running test appliance with convenience fetchers. */
export interface TestAppliance {
  app: Appliance;
  dataDir: string;
  nodeUrl: string;
  adminUrl: string;
  token: string;
  /** Admin API call with the bearer token; returns status and parsed JSON (or text). */
  admin(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Node plane call. */
  node(method: string, url: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

async function call(base: string, method: string, url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(base + url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as any, text };
}

/** Start an appliance for a test. */
export async function startTestAppliance(over: Partial<Config> = {}, opts: Partial<StartOptions> = {}): Promise<TestAppliance> {
  const dataDir = over.dataDir ?? (await tmpDir());
  // Tests never pick up a microkernel built in the working tree: an empty folder unless one is given.
  const mk =
    over.microkernelDir ??
    (await fs.mkdir(path.join(dataDir, 'no-microkernel'), { recursive: true }), path.join(dataDir, 'no-microkernel'));
  const config = await testConfig(dataDir, { ...over, microkernelDir: mk });
  const app = await startAppliance(config, { log: consoleLogger('silent'), ...opts });
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  return {
    app,
    dataDir,
    nodeUrl: config.publicUrl,
    adminUrl: app.adminUrl,
    token,
    admin: (m, u, b) => call(app.adminUrl, m, u, b, { authorization: `Bearer ${token}` }),
    node: (m, u, b) => call(config.publicUrl, m, u, b, {}),
    stop: () => app.stop(),
  };
}
