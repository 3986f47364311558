/**
 * The one appliance starter for tests (issue 11 "one test kit"), two ways:
 * - `startInProcess`: `startAppliance` in this process on loopback, built from
 *   serve flags through the real config path, with inject() on both planes;
 * - `spawnAppliance`: the real `bin/crashcart.mjs serve` as a child process,
 *   ready once it printed its UI line; stopped by its own pid.
 * Both retry on fresh ports when the node-plane port was taken meanwhile (the
 * admin plane listens on port 0, so only that one port can race).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { loadServeConfig } from '../../server/config/load.ts';
import { startAppliance, type Appliance, type StartOptions } from '../../server/app.ts';
import { consoleLogger } from '../../server/core/console-logger.ts';
import { ifindexOf, interfacesWithAddresses } from '../../server/system/interfaces.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import type { Config } from '../../server/config/schema.ts';

/** A free TCP port on loopback (may be taken again before use: callers retry). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A fresh temporary directory. */
export function tmpDir(prefix = 'cc-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * A stand-in microkernel folder (tiny vmlinuz and initrd.img, no manifest) for tests that serve DHCP
 * and TFTP but boot no guest: `serve` in full or proxy mode refuses to start without a microkernel.
 */
export async function standInMicrokernel(dataDir: string): Promise<string> {
  const dir = path.join(dataDir, 'stand-in-microkernel');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'vmlinuz'), 'not a kernel: no guest boots in this test\n');
  await fs.writeFile(path.join(dir, 'initrd.img'), 'not an initrd\n');
  return dir;
}

/** The admin token as the data dir holds it now (it changes on "sign out everywhere"). */
export async function readToken(dataDir: string): Promise<string> {
  return (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
}

/**
 * Serve flags every test appliance starts with; the caller's flags come after
 * and win (parseArgs keeps the last value). No lab, no rate limit, quiet, and
 * an empty microkernel folder so a build in the working tree is never served.
 */
async function baseFlags(dataDir: string, httpPort: number): Promise<string[]> {
  const mk = path.join(dataDir, 'no-microkernel');
  await fs.mkdir(mk, { recursive: true });
  return ['--data-dir', dataDir, '--lab', 'off', '--http-port', String(httpPort), '--admin-listen', '127.0.0.1:0'].concat([
    '--log-level',
    'silent',
    '--rate-limit',
    '0',
    '--microkernel',
    mk,
  ]);
}

/** An appliance running in this process. */
export interface InProcessAppliance {
  app: Appliance;
  config: Config;
  dataDir: string;
  adminUrl: string;
  nodeUrl: string;
  /** inject() on the admin plane (skips HTTP parsing: use real sockets for parser attacks). */
  admin: FastifyInstance;
  /** inject() on the node plane. */
  node: FastifyInstance;
  token(): Promise<string>;
  stop(): Promise<void>;
}

/** Start in-process from serve flags (`--data-dir` reuses a folder; default a fresh one). */
export async function startInProcess(flags: string[] = [], opts: Partial<StartOptions> = {}): Promise<InProcessAppliance> {
  const i = flags.indexOf('--data-dir');
  const dataDir = i >= 0 ? flags[i + 1]! : await tmpDir('cc-app-');
  const machine = { interfaces: interfacesWithAddresses, ifindex: ifindexOf, env: process.env };
  for (let attempt = 1; ; attempt++) {
    const config = loadServeConfig([...(await baseFlags(dataDir, await freePort())), ...flags], machine);
    try {
      const app = await startAppliance(config, { log: consoleLogger(config.logLevel), ...opts });
      return {
        app,
        config,
        dataDir,
        adminUrl: app.adminUrl,
        nodeUrl: config.publicUrl,
        admin: app.admin,
        node: app.network.nodePlane!,
        token: () => readToken(dataDir),
        stop: () => app.stop(),
      };
    } catch (e) {
      if (!(e instanceof CcError && e.code === 'CC_ERR_PORT_IN_USE') || attempt >= 3) throw e;
    }
  }
}

/** A `crashcart serve` child process. */
export interface ProcessAppliance {
  child: ChildProcess;
  dataDir: string;
  /** The admin origin (https:// when exposed) and the one-time sign-in link it printed. */
  adminUrl: string;
  loginUrl: string;
  nodeUrl: string;
  /** SHA-256 fingerprint of the admin certificate, when it printed one. */
  fingerprint: string | null;
  token(): Promise<string>;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves on exit. */
  stop(): Promise<void>;
}

/** What `serve` printed, or why it did not come up. */
type Launch = { ok: true; out: string } | { ok: false; out: string; portTaken: boolean };

function waitForUiLine(child: ChildProcess, output: () => string, ms: number): Promise<Launch> {
  return new Promise((resolve) => {
    const done = (l: Launch) => {
      clearTimeout(timer);
      resolve(l);
    };
    const timer = setTimeout(() => done({ ok: false, out: output(), portTaken: false }), ms);
    child.stdout!.on('data', () => {
      // The UI line is the last of the block that also names the node plane and the fingerprint.
      if (/\n {2}data: /.test(output())) done({ ok: true, out: output() });
    });
    child.once('exit', () => setImmediate(() => done({ ok: false, out: output(), portTaken: /CC_ERR_PORT_IN_USE/.test(output()) })));
  });
}

/** Where and how to spawn. */
export interface SpawnOptions {
  /** Reuse a data dir (a restart); default a fresh one. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Run inside this network namespace (`ip netns exec` replaces itself with node, so the pid is the appliance's). */
  netns?: string;
  /** A command that execs the rest (e.g. `setpriv ...` to drop to another user with some capabilities). */
  wrap?: string[];
  /** The node-plane port, for a restart that clients must find where it was (no retry then); default a free one. */
  httpPort?: number;
}

/** Spawn `bin/crashcart.mjs serve` with the base flags plus `flags`; resolves once it is up. */
export async function spawnAppliance(flags: string[] = [], o: SpawnOptions = {}): Promise<ProcessAppliance> {
  const dataDir = o.dataDir ?? (await tmpDir('cc-proc-'));
  for (let attempt = 1; ; attempt++) {
    const port = o.httpPort ?? (await freePort());
    const args = [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), 'serve', ...(await baseFlags(dataDir, port)), ...flags];
    const pre = [...(o.netns ? ['ip', 'netns', 'exec', o.netns] : []), ...(o.wrap ?? [])];
    const [cmd, argv] = pre.length ? [pre[0]!, [...pre.slice(1), process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(cmd, argv, { cwd: REPO_ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
    const l = await waitForUiLine(child, () => out, 60_000);
    if (!l.ok) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (l.portTaken && o.httpPort === undefined && attempt < 3) continue;
      throw new Error(`crashcart serve did not start:\n${l.out}`);
    }
    const loginUrl = /Crashcart UI:\s*(\S+)/.exec(out)![1]!;
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    };
    return {
      child,
      dataDir,
      adminUrl: new URL(loginUrl).origin,
      loginUrl,
      nodeUrl: /node plane:\s*(\S+)/.exec(out)![1]!,
      fingerprint: /fingerprint ([0-9A-F:]{95})/.exec(out)?.[1] ?? null,
      token: () => readToken(dataDir),
      output: () => out,
      stop,
    };
  }
}
