/**
 * A real Redfish BMC for tests: sushy-tools' emulator (shared/tools/sushy-tools) with its fake driver,
 * HTTPS with a certificate made in the test, HTTP basic auth from an htpasswd file with a bcrypt entry,
 * and the external notifier pointed at a listener in the test, which starts and kills a QEMU guest as the
 * emulated system's power changes (so a Redfish power-on really starts a machine).
 */
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { DEBIAN_PYTHON, requirePythonModules, sharedTool } from './tools.ts';
import { freeTcpPort, waitFor } from './net.ts';
import type { TestCert } from './tls-cert.ts';

/** One emulated system (sushy's SUSHY_EMULATOR_FAKE_SYSTEMS entry). */
export interface FakeSystem {
  uuid: string;
  name: string;
  power_state: 'On' | 'Off';
  external_notifier: boolean;
  nics: { mac: string; ip: string }[];
}

/** A running emulator. */
export interface SushyPeer {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** What the emulator POSTs (PUT, in fact) to the notifier on every change of a system. */
export interface Notification {
  uuid: string;
  name: string;
  power_state: string;
  pending_power?: { power_state: string } | null;
  boot_device?: string;
  boot_mode?: string;
}

/** The notifier: records every notification and hands it to `onChange`. */
export async function startNotifier(
  onChange: (n: Notification) => void,
): Promise<{ url: string; seen: Notification[]; close(): Promise<void> }> {
  const seen: Notification[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const n = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification;
        seen.push(n);
        onChange(n);
      } finally {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as import('node:net').AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

/** An htpasswd line with a bcrypt hash, made by Debian's python3-bcrypt (sushy accepts only bcrypt). */
export function htpasswdLine(username: string, password: string): string {
  const hash = execFileSync(
    DEBIAN_PYTHON,
    ['-c', 'import bcrypt,sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(rounds=6)).decode())'],
    {
      input: password,
      encoding: 'utf8',
    },
  ).trim();
  return `${username}:${hash}\n`;
}

/** The certificate the service on 127.0.0.1:port presents now, or undefined while nothing answers. */
function presented(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/redfish/v1/', rejectUnauthorized: false, agent: false, timeout: 2000 },
      (res) => {
        const fp = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? fp : undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

/** Inside a namespace the test cannot connect to: whether the service root answers 200 there (curl in the namespace). */
function answersInNs(netns: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) =>
    execFile(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'curl',
        '-sk',
        '--max-time',
        '2',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `https://127.0.0.1:${port}/redfish/v1/`,
      ],
      (_err, stdout) => resolve(stdout.trim() === '200' ? true : undefined),
    ),
  );
}

/** What the emulator is started with. */
export interface SushyOptions {
  dir: string;
  /**
   * The port to listen on. Without it, a free loopback port is picked, and picked again when another process takes it
   * between the pick and the emulator's bind (the emulator then exits with "Address already in use").
   */
  port?: number;
  cert: TestCert;
  username: string;
  password: string;
  systems: FakeSystem[];
  notifierUrl: string;
  /** Run inside this network namespace (the e2e lab): it listens on 127.0.0.1 there. */
  netns?: string;
}

/** The emulator exited because something else bound its port first. */
class PortTaken extends Error {}

/** How many free ports `startSushy` tries before it gives up. */
const PORT_TRIES = 5;

/** Start the emulator with `cert`, basic auth for one user, and `systems`; in `netns` when given. */
export async function startSushy(o: SushyOptions): Promise<SushyPeer> {
  if (o.port !== undefined) return startSushyOn(o, o.port);
  for (let attempt = 1; ; attempt++) {
    const port = await freeTcpPort();
    try {
      return await startSushyOn(o, port);
    } catch (e) {
      // Only the race for the port is retried; every other failure is the test's to see.
      if (attempt >= PORT_TRIES || !(e instanceof PortTaken)) throw e;
    }
  }
}

async function startSushyOn(o: SushyOptions, port: number): Promise<SushyPeer> {
  const tool = sharedTool('sushy-tools');
  requirePythonModules(
    ['flask', 'requests', 'tenacity', 'bcrypt', 'webob', 'pbr'],
    ['python3-flask', 'python3-requests', 'python3-tenacity', 'python3-bcrypt', 'python3-webob', 'python3-pbr'],
  );
  const tag = `sushy-${port}-${path.basename(o.cert.certFile, '.crt')}`;
  const auth = path.join(o.dir, `${tag}.htpasswd`);
  fs.writeFileSync(auth, htpasswdLine(o.username, o.password), { mode: 0o600 });
  // The config is Python; JSON literals of strings, lists and dicts read the same there (true/false aside).
  const py = (v: unknown) =>
    JSON.stringify(v)
      .replace(/\btrue\b/g, 'True')
      .replace(/\bfalse\b/g, 'False');
  const conf = path.join(o.dir, `${tag}.conf`);
  fs.writeFileSync(
    conf,
    [
      `SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'`,
      `SUSHY_EMULATOR_LISTEN_PORT = ${port}`,
      'SUSHY_EMULATOR_FAKE_DRIVER = True',
      // No memoize: state lives in the process, so a restart starts clean and nothing is written elsewhere.
      'SUSHY_EMULATOR_NO_MEMOIZE = True',
      `SUSHY_EMULATOR_SSL_CERT = ${py(o.cert.certFile)}`,
      `SUSHY_EMULATOR_SSL_KEY = ${py(o.cert.keyFile)}`,
      `SUSHY_EMULATOR_AUTH_FILE = ${py(auth)}`,
      `SUSHY_EMULATOR_FAKE_SYSTEMS = ${py(o.systems)}`,
      `EXTERNAL_NOTIFICATION_URL = ${py(o.notifierUrl)}`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(o.dir, `${tag}.log`);
  const out = fs.openSync(logFile, 'w');
  // `ip netns exec` and the run script both exec, so the pid is the emulator's either way.
  const [cmd, ...args] = o.netns
    ? ['ip', 'netns', 'exec', o.netns, path.join(tool, 'run'), '--config', conf]
    : [path.join(tool, 'run'), '--config', conf];
  const child: ChildProcess = spawn(cmd!, args, {
    stdio: ['ignore', out, out],
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` },
  });
  fs.closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const log = () => fs.readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await waitFor(`sushy-emulator on port ${port}`, async () => {
      if (child.exitCode !== null) {
        const text = log();
        const Failure = text.includes('Address already in use') ? PortTaken : Error;
        throw new Failure(`sushy-emulator exited (${child.exitCode}):\n${text}`);
      }
      // A fresh namespace has nothing else listening: an answer there is ours.
      if (o.netns) return answersInNs(o.netns, port);
      const fp = await presented(port);
      // Ours answers only when it presents our certificate (not an earlier instance still closing).
      return fp === o.cert.fingerprint ? true : undefined;
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, log, stop };
}
