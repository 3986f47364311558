/**
 * The appliance for tests of routes: started in-process from a Config (the tests that need a setting the flags
 * do not reach, e.g. a pool with no NIC), with `admin()` and `node()` going through Fastify's inject() on each
 * plane, so a route test opens no socket and races for no port. The planes still listen (the admin one on port
 * 0), for the tests whose point is a real client: `adminUrl` and `nodeUrl`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { finalizeConfig } from '../../server/config/load.ts';
import { startAppliance, type Appliance, type StartOptions } from '../../server/app.ts';
import { consoleLogger } from '../../server/core/console-logger.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { Config } from '../../server/config/schema.ts';
import { freePort, readToken, tmpDir } from './appliance.ts';

/** A lab-less, NIC-less config on loopback; the admin plane on port 0. */
export async function testConfig(dataDir: string, over: Partial<Config> = {}): Promise<Config> {
  const httpPort = await freePort();
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
    admin: { host: '127.0.0.1', port: 0, exposed: false, hostnames: [], tls: null, sessionIdleS: 28800, sessionMaxS: 86400 },
    lab: null,
    microkernelDir: null,
    tftpRoot: null,
    efiLoader: 'ipxe.efi',
    logLevel: 'silent',
    rateLimitPerMin: 0,
    pools: [],
    dhcpOptions: [],
    conflictCheck: false,
    dhcpWarmStart: false,
    ports: { dhcp: 67, proxy: 4011, tftp: 69 },
    ...over,
  });
}

/** An answer: status, parsed JSON (or the text), the text and the headers. */
export interface Answer {
  status: number;
  body: any;
  text: string;
  headers: Record<string, unknown>;
}

/** A running test appliance with inject() callers for both planes. */
export interface TestAppliance {
  app: Appliance;
  dataDir: string;
  nodeUrl: string;
  adminUrl: string;
  token: string;
  /** Admin API call with the bearer token, through inject(). */
  admin(method: string, url: string, body?: unknown): Promise<Answer>;
  /** Node plane call, through inject(). */
  node(method: string, url: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

async function inject(
  plane: FastifyInstance,
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Answer> {
  const res = await plane.inject({
    method: method as 'GET',
    url,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  let parsed: unknown = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, body: parsed, text: res.body, headers: res.headers };
}

/** Start an appliance for a route test; retries on a fresh node-plane port if the one picked was taken meanwhile. */
export async function startTestAppliance(over: Partial<Config> = {}, opts: Partial<StartOptions> = {}): Promise<TestAppliance> {
  const dataDir = over.dataDir ?? (await tmpDir());
  // Tests never pick up a microkernel built in the working tree: an empty folder unless one is given.
  const mk = over.microkernelDir ?? path.join(dataDir, 'no-microkernel');
  await fs.mkdir(mk, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const config = await testConfig(dataDir, { ...over, microkernelDir: mk });
    let app: Appliance;
    try {
      app = await startAppliance(config, { log: consoleLogger('silent'), ...opts });
    } catch (e) {
      if (!(e instanceof CcError && e.code === 'CC_ERR_PORT_IN_USE') || attempt >= 3) throw e;
      continue;
    }
    const token = await readToken(dataDir);
    const nodePlane = app.network.nodePlane!;
    return {
      app,
      dataDir,
      nodeUrl: config.publicUrl,
      adminUrl: app.adminUrl,
      token,
      admin: (m, u, b) => inject(app.admin, m, u, b, { authorization: `Bearer ${token}` }),
      node: (m, u, b) => inject(nodePlane, m, u, b, {}),
      stop: () => app.stop(),
    };
  }
}
