/**
 * Finding the appliance, in order: kernel command line (written by the boot
 * script), environment / flags, the DHCP lease's server identifier or
 * next-server, then the DNS name `crashcart`. The caller logs which source won.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_HTTP_PORT, KERNEL_ARGS } from '../contract/protocol.ts';
import { lines, splitPair } from './parse/kv-text.ts';

/** Where the appliance is and who this node is. */
export interface ApplianceLocation {
  url: string;
  nodeId?: number;
  token?: string;
  /** The microkernel version the boot script named (`crashcart.mk=`), reported at registration. */
  microkernel?: string;
  source: 'cmdline' | 'flags' | 'env' | 'dhcp-lease' | 'dns';
}

/** Split a kernel command line into key=value (quotes honoured, bare words ignored). */
export function parseCmdline(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([^\s=]+)=("([^"]*)"|(\S*))/g;
  let m: RegExpExecArray | null;
  let guard = 0;
  while ((m = re.exec(text.slice(0, 65536))) !== null && guard++ < 1024) out.set(m[1]!, m[3] ?? m[4] ?? '');
  return out;
}

/** A usable http(s) URL or undefined. */
export function validUrl(v: string | undefined): string | undefined {
  if (!v) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? v.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

/** A version label the register schema accepts (contract/protocol.ts VersionLabelSchema), else undefined. */
function versionLabel(v: string | undefined): string | undefined {
  return v && /^[A-Za-z0-9._:+-]{1,128}$/.test(v) ? v : undefined;
}

/** The crashcart.* keys of a command line (or of a boot script's `#crashcart-args` line). */
export function crashcartArgs(text: string): { url?: string; nodeId?: number; token?: string; microkernel?: string } {
  const kv = parseCmdline(text);
  const node = Number(kv.get(KERNEL_ARGS.node));
  return {
    url: validUrl(kv.get(KERNEL_ARGS.url)),
    nodeId: Number.isInteger(node) && node > 0 ? node : undefined,
    token: kv.get(KERNEL_ARGS.token) || undefined,
    microkernel: versionLabel(kv.get(KERNEL_ARGS.microkernel)),
  };
}

/** DHCP server identifier (option 54) or next-server (siaddr) from a lease file: dhclient, udhcpc env dump or systemd-networkd. */
export function leaseServer(text: string): string | undefined {
  const ip = /^(\d{1,3}\.){3}\d{1,3}$/;
  let nextServer: string | undefined;
  let serverId: string | undefined;
  for (const l of lines(text)) {
    // dhclient.leases: "  option dhcp-server-identifier 10.0.0.1;" / "  next-server 10.0.0.1;"
    const d = /^\s*(option dhcp-server-identifier|next-server)\s+([\d.]+);/.exec(l);
    if (d) {
      if (d[1] === 'next-server') nextServer = d[2];
      else serverId = d[2];
      continue;
    }
    // systemd-networkd / udhcpc env dumps: SERVER_ADDRESS=, NEXT_SERVER=, serverid=, siaddr=
    const p = splitPair(l, '=');
    if (!p) continue;
    const k = p[0].toLowerCase();
    const v = p[1].replace(/^["']|["']$/g, '');
    if ((k === 'next_server' || k === 'siaddr') && ip.test(v)) nextServer = v;
    if ((k === 'server_address' || k === 'serverid') && ip.test(v)) serverId = v;
  }
  const chosen = nextServer && nextServer !== '0.0.0.0' ? nextServer : serverId;
  return chosen && chosen !== '0.0.0.0' ? chosen : undefined;
}

/** Inputs to locate(); everything has a real default and tests pass their own. */
export interface LocateInputs {
  flags?: { url?: string; nodeId?: number; token?: string };
  env?: NodeJS.ProcessEnv;
  readText?: (p: string) => Promise<string>;
  resolve?: (name: string) => Promise<string>;
  leaseFiles?: string[];
  port?: number;
}

/** Lease files of the DHCP clients a microkernel or a Linux host may run. */
export const LEASE_FILES = [
  '/run/crashcart/lease',
  '/var/lib/dhcp/dhclient.leases',
  '/var/lib/dhclient/dhclient.leases',
  '/run/systemd/netif/leases/2',
  '/run/systemd/netif/leases/3',
];

/** Find the appliance; null when no source knows it. */
export async function locate(i: LocateInputs = {}): Promise<ApplianceLocation | null> {
  const read = i.readText ?? ((p: string) => readFile(p, 'utf8'));
  const env = i.env ?? process.env;
  const port = i.port ?? DEFAULT_HTTP_PORT;
  const cmd = crashcartArgs(await read('/proc/cmdline').catch(() => ''));
  // Identity (node, token) may come from the command line even when the URL is overridden.
  const nodeId = i.flags?.nodeId ?? cmd.nodeId ?? (Number(env['CRASHCART_NODE']) || undefined);
  const token = i.flags?.token ?? cmd.token ?? env['CRASHCART_TOKEN'];
  const id = { nodeId, token, ...(cmd.microkernel ? { microkernel: cmd.microkernel } : {}) };
  if (cmd.url) return { url: cmd.url, ...id, source: 'cmdline' };
  const flagUrl = validUrl(i.flags?.url);
  if (flagUrl) return { url: flagUrl, ...id, source: 'flags' };
  const envUrl = validUrl(env['CRASHCART_URL']);
  if (envUrl) return { url: envUrl, ...id, source: 'env' };
  for (const f of i.leaseFiles ?? LEASE_FILES) {
    const s = leaseServer(await read(f).catch(() => ''));
    if (s) return { url: `http://${s}:${port}`, ...id, source: 'dhcp-lease' };
  }
  try {
    // node:dns/promises only here, the last resort (one module less at every start).
    const resolve = i.resolve ?? (async (n: string) => (await (await import('node:dns/promises')).lookup(n, { family: 4 })).address);
    const a = await resolve('crashcart');
    return { url: `http://${a}:${port}`, ...id, source: 'dns' };
  } catch {
    return null;
  }
}
