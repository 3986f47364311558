/**
 * The two HTTP servers of bench/http, on loopback with the same files: Crashcart's node plane (the real
 * `crashcart serve`, microkernel at /mk/, the same bytes as an OS image at /images/bench/) and Debian's
 * nginx (sendfile on, worker_processes auto as Debian ships it) with its own configuration, started by
 * the bench and stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { freePort, spawnAppliance } from '../../test/support/appliance.ts';
import { SHIPPED_ENV } from '../shipped.ts';

/** A running server: base URL and the URL path of each bench file. */
export interface HttpServer {
  name: string;
  pid: number;
  base: string;
  /** URL path of a bench file by its name. */
  url(file: string): string;
  stop(): Promise<void>;
}

function waitFor(c: ChildProcess, out: () => string, ready: RegExp | (() => Promise<boolean>), what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = async () => {
      if (c.exitCode !== null) return reject(new Error(`${what} exited: ${out().slice(-2000)}`));
      if (ready instanceof RegExp ? ready.test(out()) : await ready()) return resolve();
      if (Date.now() - t0 > 60_000) return reject(new Error(`${what} did not start: ${out().slice(-2000)}`));
      setTimeout(() => void tick(), 100);
    };
    void tick();
  });
}

function stopByPid(c: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) return resolve();
    const hard = setTimeout(() => c.pid && process.kill(c.pid, 'SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    process.kill(c.pid, signal);
  });
}

/**
 * `crashcart serve` on loopback: `files` (name -> path) become the microkernel (vmlinuz, initrd.img) and
 * the image `bench` (every file). With `profileDir` it runs under --cpu-prof (written there as it exits).
 * `copy` starts it with `--http-copy` (bodies copied from memory or streamed instead of sendfile(2)).
 */
export async function startCrashcart(dir: string, files: Record<string, string>, profileDir?: string, copy = false): Promise<HttpServer> {
  const data = path.join(dir, copy ? 'crashcart-copy-data' : 'crashcart-data');
  const mk = path.join(dir, copy ? 'mk-copy' : 'mk');
  fs.mkdirSync(path.join(data, 'images', 'bench'), { recursive: true });
  fs.mkdirSync(mk, { recursive: true });
  for (const [name, p] of Object.entries(files)) {
    fs.linkSync(p, path.join(data, 'images', 'bench', name));
    if (name === 'vmlinuz' || name === 'initrd.img') fs.linkSync(p, path.join(mk, name));
  }
  // The kit's starter: the real `crashcart serve` on loopback, no rate limit (its test defaults), this microkernel.
  const a = await spawnAppliance(['--log-level', 'warn', '--microkernel', mk, ...(copy ? ['--http-copy'] : [])], {
    dataDir: data,
    env: SHIPPED_ENV,
    nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : [],
  });
  return {
    name: copy ? 'Crashcart --http-copy' : 'Crashcart',
    pid: a.child.pid!,
    base: a.nodeUrl,
    url: (f) => (f === 'vmlinuz' || f === 'initrd.img' ? `/mk/${f}` : `/images/bench/${f}`),
    stop: () => a.stop(10_000),
  };
}

/** The bare node:http reference (bare-node.ts): every file in memory, slices sent with res.end(). */
export async function startBareNode(dir: string, files: Record<string, string>): Promise<HttpServer> {
  const root = path.join(dir, 'bare');
  fs.mkdirSync(root, { recursive: true });
  for (const [name, p] of Object.entries(files)) fs.linkSync(p, path.join(root, name));
  const port = await freePort();
  const c = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin', 'run-ts.mjs'),
      path.join(REPO_ROOT, 'bench', 'http', 'bare-node.ts'),
      String(port),
      root,
      ...Object.keys(files),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(c, () => out, /ready/, 'bare node:http');
  return {
    name: 'bare node:http',
    pid: c.pid!,
    base: `http://127.0.0.1:${port}`,
    url: (f) => `/${f}`,
    stop: () => stopByPid(c, 'SIGTERM'),
  };
}

/** nginx 1.22 (Debian) serving the same files from a root of hard links, sendfile on. */
export async function startNginx(dir: string, files: Record<string, string>): Promise<HttpServer> {
  const prefix = path.join(dir, 'nginx');
  const www = path.join(prefix, 'www');
  fs.mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
  fs.mkdirSync(www, { recursive: true });
  for (const d of [dir, prefix, www]) fs.chmodSync(d, 0o755); // workers run as nobody
  for (const [name, p] of Object.entries(files)) fs.linkSync(p, path.join(www, name));
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  const tmp = path.join(prefix, 'tmp');
  fs.writeFileSync(
    conf,
    `worker_processes auto;
daemon off;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  server { listen 127.0.0.1:${port}; root ${www}; location / { } }
}
`,
  );
  const c = spawn('nginx', ['-c', conf, '-p', prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    c,
    () => out,
    async () => (await fetch(`${base}/nothing`).catch(() => null))?.status === 404,
    'nginx',
  );
  return { name: 'nginx', pid: c.pid!, base, url: (f) => `/${f}`, stop: () => stopByPid(c, 'SIGQUIT') };
}
