/**
 * The one appliance starter for tests (issue 11 "one test kit"), two ways:
 * - `startInProcess`: `startAppliance` in this process on loopback, built from
 *   serve flags through the real config path, with inject() on both planes;
 * - `spawnAppliance`: the real `bin/crashcart.mjs serve` as a child process,
 *   ready once it printed its UI line; stopped by its own pid.
 * Both retry on fresh ports when the node-plane port was taken meanwhile (the
 * admin plane listens on port 0, so only that one port can race). `launch` is
 * the one place the kit spawns an appliance process (serve here, the DHCP
 * plugin alone in dhcp-plugin.ts); appliance-e2e.ts drives serve for QEMU.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
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
 * and win (parseArgs keeps the last value). No lab, the admin plane on port 0,
 * and with `testDefaults` also no rate limit, quiet, and an empty microkernel
 * folder so a build in the working tree is never served.
 */
async function baseFlags(dataDir: string, httpPort: number, testDefaults = true): Promise<string[]> {
  const always = ['--data-dir', dataDir, '--lab', 'off', '--http-port', String(httpPort), '--admin-listen', '127.0.0.1:0'];
  if (!testDefaults) return always;
  const mk = path.join(dataDir, 'no-microkernel');
  await fs.mkdir(mk, { recursive: true });
  // No DHCP warm start: the kit starts many appliances (the QEMU suites, testDefaults false, keep it on).
  return always.concat(['--log-level', 'silent', '--rate-limit', '0', '--microkernel', mk, '--dhcp-warm-start', 'off']);
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

/** How the kit runs a child process. */
export interface LaunchOptions {
  /** Run inside this network namespace (`ip netns exec` replaces itself with node, so the pid is the appliance's). */
  netns?: string;
  /** A command that execs the rest, run inside the namespace (`setpriv ...`, `taskset -c 1`, `unshare --mount ...`). */
  wrap?: string[];
  env?: NodeJS.ProcessEnv;
  /** Working directory; default the repository. */
  cwd?: string;
  /** Give it a stdin pipe (the DHCP plugin alone reads its commands there). */
  stdin?: boolean;
  /** Also copy everything it prints into this file (the QEMU suites keep the appliance log). */
  logFile?: string;
}

/** A child process of the kit: what it printed, and a stop by its own pid. */
export interface Launched {
  child: ChildProcess;
  /** Everything it printed so far (the last few MB of a long run). */
  output(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Start `node ARGS` (in `netns`, under `wrap`); the one place the kit spawns an appliance process. */
export function launch(nodeArgs: string[], o: LaunchOptions = {}): Launched {
  const pre = [...(o.netns ? ['ip', 'netns', 'exec', o.netns] : []), ...(o.wrap ?? [])];
  const [cmd, argv] = pre.length ? [pre[0]!, [...pre.slice(1), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, argv, {
    cwd: o.cwd ?? REPO_ROOT,
    env: { ...process.env, ...o.env },
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 8_000_000) out = out.slice(-4_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  if (o.logFile) {
    const log = createWriteStream(o.logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async (graceMs = 5000) => {
    if (exited()) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };
  return { child, output: () => out, exited, stop };
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
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** What `serve` printed, or why it did not come up. */
type Launch = { ok: true } | { ok: false; portTaken: boolean };

function waitForUiLine(p: Launched, ms: number): Promise<Launch> {
  return new Promise((resolve) => {
    const done = (l: Launch) => {
      clearTimeout(timer);
      resolve(l);
    };
    const timer = setTimeout(() => done({ ok: false, portTaken: false }), ms);
    p.child.stdout!.on('data', () => {
      // The UI line is the first of the block that ends with the data folder (after the node plane and the fingerprint).
      if (/\n {2}data: /.test(p.output())) done({ ok: true });
    });
    p.child.once('exit', () => setImmediate(() => done({ ok: false, portTaken: /CC_ERR_PORT_IN_USE/.test(p.output()) })));
  });
}

/** Where and how to spawn `serve`. */
export interface SpawnOptions extends Omit<LaunchOptions, 'stdin' | 'cwd'> {
  /** Reuse a data dir (a restart); default a fresh one. */
  dataDir?: string;
  /** The node-plane port, for a restart that clients must find where it was (no retry then); default a free one. */
  httpPort?: number;
  /** Run `bin/crashcart.mjs` of this checkout (e.g. a fresh clone), from there; default this repository. */
  repo?: string;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** The test defaults of `baseFlags` (quiet, no rate limit, no microkernel); false: serve's own, as an operator starts it. */
  testDefaults?: boolean;
  /** How long it may take to print its UI line; default 60 s. */
  timeoutMs?: number;
}

/** Spawn `bin/crashcart.mjs serve` with the base flags plus `flags`; resolves once it is up. */
export async function spawnAppliance(flags: string[] = [], o: SpawnOptions = {}): Promise<ProcessAppliance> {
  const dataDir = o.dataDir ?? (await tmpDir('cc-proc-'));
  const repo = o.repo ?? REPO_ROOT;
  for (let attempt = 1; ; attempt++) {
    const port = o.httpPort ?? (await freePort());
    const args = [path.join(repo, 'bin', 'crashcart.mjs'), 'serve', ...(await baseFlags(dataDir, port, o.testDefaults)), ...flags];
    const p = launch([...(o.nodeArgs ?? []), ...args], { ...o, cwd: repo });
    const l = await waitForUiLine(p, o.timeoutMs ?? 60_000);
    if (!l.ok) {
      if (!p.exited()) p.child.kill('SIGKILL');
      if (l.portTaken && o.httpPort === undefined && attempt < 3) continue;
      throw new Error(`crashcart serve did not start:\n${p.output().slice(-20_000)}`);
    }
    const out = p.output();
    const loginUrl = /Crashcart UI:\s*(\S+)/.exec(out)![1]!;
    return {
      child: p.child,
      dataDir,
      adminUrl: new URL(loginUrl).origin,
      loginUrl,
      nodeUrl: /node plane:\s*(\S+)/.exec(out)![1]!,
      fingerprint: /fingerprint ([0-9A-F:]{95})/.exec(out)?.[1] ?? null,
      token: () => readToken(dataDir),
      output: p.output,
      exited: p.exited,
      stop: p.stop,
    };
  }
}
