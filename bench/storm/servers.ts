/**
 * What the rack boots from, in the appliance namespace: Crashcart (`crashcart serve`, full DHCP, its TFTP
 * and node plane, the real microkernel) or the reference: dnsmasq (DHCP + TFTP, PXE clients get
 * undionly.kpxe, iPXE gets the script URL; no ping before offers, as Crashcart) and nginx (sendfile) for
 * the script and the same kernel and initrd. Each reports its processes' CPU and peak memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ipxeKernelOf, REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { spawnAppliance } from '../../test/support/appliance.ts';
import { SHIPPED_ENV } from '../shipped.ts';
import { STORM_NET } from './lab.ts';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { CheckinResponseSchema, RegisterResponseSchema } from '../../contract/protocol.ts';
import { procCpuMs } from '../proc-stat.ts';

/** A running boot server. */
export interface StormServer {
  name: string;
  /** Top PIDs; their live descendants count too. */
  pids(): number[];
  stop(): Promise<void>;
}

/** CPU ms (user + system) and resident KiB of a process and its live descendants. */
export function treeUsage(pid: number): { cpuMs: number; rssKiB: number } {
  let cpuMs = 0;
  let rssKiB = 0;
  try {
    cpuMs += procCpuMs(`/proc/${pid}/stat`);
    rssKiB += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    for (const t of fs.readdirSync(`/proc/${pid}/task`))
      for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) {
        const u = treeUsage(Number(c));
        cpuMs += u.cpuMs;
        rssKiB += u.rssKiB;
      }
  } catch {
    /* exited */
  }
  return { cpuMs, rssKiB };
}

/** `taskset -c CPUS` in front of a command, or nothing. */
export const pinPrefix = (cpus: string | null): string[] => (cpus ? ['taskset', '-c', cpus] : []);

function inNs(ns: string, cpus: string | null, cmd: string, args: string[]): { c: ChildProcess; out: () => string } {
  const c = spawn('ip', ['netns', 'exec', ns, ...pinPrefix(cpus), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  c.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  return { c, out: () => out };
}

async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>, c: ChildProcess, out: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (c.exitCode !== null) throw new Error(`${what} exited: ${out().slice(-2000)}`);
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up: ${out().slice(-2000)}`);
}

function stop(c: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) return resolve();
    const hard = setTimeout(() => c.pid && process.kill(c.pid, 'SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    process.kill(c.pid, sig);
  });
}

/**
 * `crashcart serve` on eth0 of `ns` with the real microkernel from `mk`, started by the test kit's one starter;
 * `copy` adds `--http-copy` (boot files copied from memory instead of sendfile(2), to compare); with `profileDir`
 * it runs under --cpu-prof (the profile lands there when it stops); `tftpJs` adds `--tftp-js` (TFTP transfers in
 * JavaScript instead of the native pump, to compare); `assetsFromNginx` starts an nginx beside it serving the same
 * kernel and initrd on ASSET_NGINX_PORT (bench/storm `--assets-from nginx`), counted with it.
 */
export async function startCrashcart(
  ns: string,
  dir: string,
  mk: string,
  copy = false,
  profileDir?: string,
  tftpJs = false,
  cpus: string | null = null,
  assetsFromNginx = false,
): Promise<StormServer> {
  const flags = [
    ...['--iface', 'eth0', '--address', `${STORM_NET.server}/${STORM_NET.prefix}`, '--dhcp', 'full'],
    ...['--range', `${STORM_NET.start}-${STORM_NET.end}`, '--force', '--microkernel', mk, '--log-level', 'warn'],
    ...(copy ? ['--http-copy'] : []),
    ...(tftpJs ? ['--tftp-js'] : []),
  ];
  const a = await spawnAppliance(flags, {
    dataDir: path.join(dir, 'crashcart-data'),
    netns: ns,
    httpPort: 8026,
    testDefaults: false,
    env: SHIPPED_ENV,
    ...(cpus ? { wrap: pinPrefix(cpus) } : {}),
    nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : [],
  });
  if (!assetsFromNginx) return { name: 'Crashcart', pids: () => [a.child.pid!], stop: () => a.stop(10_000) };
  // --assets-from nginx: the same two files from an nginx beside it (pinned with it, its CPU counted with it).
  // Served from a folder of their own, so nginx's configuration, pid file and temp folders are not under its root.
  const root = path.join(dir, 'cc-assets');
  const www = path.join(root, 'www');
  fs.mkdirSync(www, { recursive: true });
  for (const d of [root, www]) fs.chmodSync(d, 0o755);
  copyBootFiles(mk, www);
  let ng: Nginx;
  try {
    ng = await startNginx(ns, cpus, root, `${STORM_NET.server}:${ASSET_NGINX_PORT}`, www, '');
  } catch (e) {
    await a.stop(10_000);
    throw e;
  }
  return {
    name: 'Crashcart',
    pids: () => [a.child.pid!, ng.c.pid!],
    stop: async () => {
      await a.stop(10_000);
      await stop(ng.c, 'SIGQUIT');
    },
  };
}

/** Where `--assets-from nginx` serves the microkernel's kernel and initrd (the rack fetches them there). */
export const ASSET_NGINX_PORT = 8081;

type Nginx = ReturnType<typeof inNs>;

/** nginx in `ns` (sendfile, tcp_nopush, no access log) serving `www` on `listen`, with `locations` added to its server block. */
async function startNginx(ns: string, cpus: string | null, root: string, listen: string, www: string, locations: string): Promise<Nginx> {
  const tmp = path.join(root, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const conf = path.join(root, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes auto;\ndaemon off;\npid ${root}/nginx.pid;\nerror_log ${root}/nginx-error.log warn;\nevents { worker_connections 4096; }\n` +
      `http { access_log off; sendfile on; tcp_nopush on; default_type application/octet-stream;\n` +
      `  client_body_temp_path ${tmp}/b; proxy_temp_path ${tmp}/p; fastcgi_temp_path ${tmp}/f; uwsgi_temp_path ${tmp}/u; scgi_temp_path ${tmp}/s;\n` +
      `  types { text/plain ipxe; }\n  server { listen ${listen}; root ${www}; location / { }\n${locations}  } }\n`,
  );
  const ng = inNs(ns, cpus, 'nginx', ['-c', conf, '-p', root]);
  await until('nginx', 15_000, () => fs.existsSync(path.join(root, 'nginx.pid')), ng.c, ng.out);
  return ng;
}

/**
 * The smallest answer the agent's client accepts for `schema` (node 0, an empty token, `acknowledge`): nginx returns it
 * to the reference rack's register and check-in, which it cannot do for real, so that the rack does the same work
 * against both servers. A JSON text with no `'` or `$` (nginx's quoting and variables).
 */
function fixedAnswer(schema: TSchema): string {
  const text = JSON.stringify(Value.Create(schema));
  if (/['$\\]/.test(text)) throw new Error(`a fixed answer nginx cannot quote: ${text}`);
  return text;
}

/** dnsmasq (DHCP + TFTP) and nginx (HTTP) serving the same loader, script and microkernel files. */
export async function startReference(ns: string, dir: string, mk: string, cpus: string | null = null): Promise<StormServer> {
  const root = path.join(dir, 'ref');
  const tftp = path.join(root, 'tftp');
  const www = path.join(root, 'www');
  fs.mkdirSync(tftp, { recursive: true });
  fs.mkdirSync(www, { recursive: true });
  for (const d of [dir, root, tftp, www]) fs.chmodSync(d, 0o755);
  fs.copyFileSync(path.join(REPO_ROOT, 'resources', 'ipxe', 'undionly.kpxe'), path.join(tftp, 'undionly.kpxe'));
  copyBootFiles(mk, www);
  const url = `http://${STORM_NET.server}:8080`;
  // The script a plain setup would serve: the same kernel and initrd, no per-node state.
  fs.writeFileSync(
    path.join(www, 'boot.ipxe'),
    `#!ipxe\nkernel --name vmlinuz ${url}/vmlinuz initrd=initrd.img quiet\ninitrd --name initrd.img ${url}/initrd.img\nboot\n`,
  );
  for (const f of fs.readdirSync(www)) fs.chmodSync(path.join(www, f), 0o644);
  fs.chmodSync(path.join(tftp, 'undionly.kpxe'), 0o644);
  const dns = inNs(ns, cpus, 'dnsmasq', [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=eth0',
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-range=${STORM_NET.start},${STORM_NET.end},255.255.0.0,1h`,
    '--dhcp-lease-max=10000',
    '--dhcp-authoritative',
    `--dhcp-leasefile=${path.join(root, 'dnsmasq.leases')}`,
    '--dhcp-userclass=set:ipxe,iPXE',
    '--dhcp-boot=tag:!ipxe,undionly.kpxe',
    `--dhcp-boot=tag:ipxe,${url}/boot.ipxe`,
    '--enable-tftp',
    `--tftp-root=${tftp}`,
    '--tftp-max=1000',
    '--user=root',
    `--pid-file=${path.join(root, 'dnsmasq.pid')}`,
  ]);
  const listening = () => {
    try {
      const ss = fs.readFileSync(`/proc/${dns.c.pid}/net/udp`, 'utf8');
      return ss.includes(':0043 ') && ss.includes(':0045 ');
    } catch {
      return false;
    }
  };
  await until('dnsmasq', 15_000, listening, dns.c, dns.out);
  let nginx: Nginx;
  try {
    nginx = await startNginx(
      ns,
      cpus,
      root,
      `${STORM_NET.server}:8080`,
      www,
      `    location = /api/v1/register { default_type application/json; return 200 '${fixedAnswer(RegisterResponseSchema)}'; }\n` +
        `    location = /api/v1/checkin { default_type application/json; return 200 '${fixedAnswer(CheckinResponseSchema)}'; }\n`,
    );
  } catch (e) {
    await stop(dns.c);
    throw e;
  }
  return {
    name: 'dnsmasq + nginx',
    pids: () => [dns.c.pid!, nginx.c.pid!],
    stop: async () => {
      await stop(dns.c);
      await stop(nginx.c, 'SIGQUIT');
    },
  };
}

/**
 * The microkernel files nginx serves, as `www/vmlinuz` and `www/initrd.img` (mode 0644): the kernel is the one
 * Crashcart's iPXE script names (vmlinuz-zstd when the build made it), so both sides deliver the same bytes.
 */
function copyBootFiles(mk: string, www: string): void {
  for (const f of ['vmlinuz', 'initrd.img']) {
    fs.copyFileSync(path.join(mk, f === 'vmlinuz' ? ipxeKernelOf(mk) : f), path.join(www, f));
    fs.chmodSync(path.join(www, f), 0o644);
  }
}
