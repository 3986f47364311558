/**
 * Build the frozen Config from argv and the machine's interfaces. Only the CLI
 * and Electron main call this; everything else receives the Config.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Compile } from 'typebox/compile';
import { ConfigSchema, type Config } from './schema.ts';
import * as D from './defaults.ts';
import { ccError } from '../errors/cc-error.ts';
import { ipToInt, intToIp, inSubnet } from '../net/ipv4.ts';
import { checkPools, parsePoolFlag } from '../dhcp/pools.ts';
import { encodeExtraOptions, parseDhcpOptionFlag } from '../dhcp/extra-options.ts';

/** What the loader needs to know about the machine (injected in tests). */
export interface MachineView {
  interfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  ifindex(name: string): number | null;
  env: NodeJS.ProcessEnv;
}

/** The serve flags, for `--help` and parsing. */
export const SERVE_OPTIONS = {
  iface: { type: 'string', help: 'provisioning NIC; DHCP and TFTP run only when given' },
  address: { type: 'string', help: 'IP/PREFIX on that NIC (default: its first IPv4)' },
  dhcp: { type: 'string', help: 'full | proxy | off (default: full with --range, else proxy)' },
  range: { type: 'string', help: 'START-END of the DHCP pool (full mode)' },
  force: { type: 'boolean', help: 'serve full DHCP even when another server answers on the link' },
  'data-dir': { type: 'string', help: 'store, tokens, images, microkernel (default: $XDG_DATA_HOME/crashcart)' },
  'http-port': { type: 'string', help: `node-facing HTTP port (default ${D.DEFAULT_HTTP_PORT})` },
  'admin-listen': { type: 'string', help: `HOST:PORT of the admin API and UI (default ${D.DEFAULT_ADMIN_HOST}:${D.DEFAULT_ADMIN_PORT})` },
  'admin-token-required': { type: 'boolean', help: 'allow --admin-listen beyond loopback (every request needs the token)' },
  lab: { type: 'string', help: `sim:N runs a simulated rack of N nodes (default sim:${D.DEFAULT_LAB_NODES} when no --iface)` },
  microkernel: { type: 'string', help: 'folder with vmlinuz, initrd.img, manifest.json' },
  'tftp-root': { type: 'string', help: 'extra folder served by TFTP beside resources/ipxe' },
  'efi-loader': { type: 'string', help: 'ipxe.efi | snponly.efi for UEFI x86 (default ipxe.efi)' },
  'log-level': { type: 'string', help: 'debug | info | warn | error | silent (default info)' },
  'rate-limit': {
    type: 'string',
    help: `node-plane requests per minute per source, 0 = off (default ${D.DEFAULT_NODE_RATE_LIMIT_PER_MIN})`,
  },
  pool: {
    type: 'string',
    multiple: true,
    help: 'SUBNET/PREFIX:START-END extra full-mode pool for a relayed subnet (repeatable), e.g. 10.20.0.0/24:10.20.0.10-10.20.0.200',
  },
  'dhcp-option': {
    type: 'string',
    multiple: true,
    help: 'CODE|NAME=TYPE:VALUE option sent in every full-mode OFFER/ACK (repeatable), e.g. 42=ips:10.0.0.1',
  },
  'dhcp-conflict-check': { type: 'boolean', help: 'ping an address before offering it (off: ~1 s per new client; see docs/dhcp.md)' },
  'dhcp-port': { type: 'string', help: 'DHCP server port (default 67; tests use others)' },
  'tftp-port': { type: 'string', help: 'TFTP port (default 69)' },
  'proxy-port': { type: 'string', help: 'PXE boot-server port (default 4011)' },
  help: { type: 'boolean', help: 'show this help' },
} as const;

const check = Compile(ConfigSchema);

/** Default data dir per the XDG base directory spec. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME || path.join(env.HOME || os.homedir(), '.local', 'share');
  return path.join(base, 'crashcart');
}

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw ccError('CC_ERR_CONFIG_INVALID', `--${name} must be a whole number, got "${v}"`);
  return Number(v);
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v))
    throw ccError('CC_ERR_CONFIG_INVALID', `--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

function parseAddress(v: string): { ip: string; prefix: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(v);
  if (!m || ipToInt(m[1]!) === null || Number(m[2]) < 1 || Number(m[2]) > 32)
    throw ccError('CC_ERR_CONFIG_INVALID', `--address must be IP/PREFIX like 10.0.0.1/24, got "${v}"`);
  return { ip: m[1]!, prefix: Number(m[2]) };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Parse `serve` argv into the frozen Config, resolving the NIC against the machine. */
export function loadServeConfig(argv: string[], machine: MachineView): Config {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(SERVE_OPTIONS).map(([k, o]) => [k, { type: o.type, multiple: 'multiple' in o }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    throw ccError('CC_ERR_CONFIG_INVALID', (e as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const many = (k: string) => (values[k] as string[] | undefined) ?? [];
  const iface = s('iface') ?? null;
  let address = s('address') ? parseAddress(s('address')!) : null;
  let ifindex: number | null = null;
  if (iface) {
    const addrs = machine.interfaces()[iface];
    ifindex = machine.ifindex(iface);
    if (!addrs || ifindex === null) {
      const names = Object.keys(machine.interfaces()).join(', ');
      throw ccError('CC_ERR_IFACE_NOT_FOUND', `"${iface}" (this machine has: ${names})`);
    }
    if (!address) {
      const v4 = addrs.find((a) => a.family === 'IPv4');
      if (!v4 || !v4.cidr) throw ccError('CC_ERR_IFACE_NO_ADDRESS', iface);
      address = parseAddress(v4.cidr);
    }
  }
  let range: { start: string; end: string } | null = null;
  if (s('range')) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s('range')!);
    const a = m ? ipToInt(m[1]!) : null;
    const b = m ? ipToInt(m[2]!) : null;
    if (a === null || b === null || a > b) throw ccError('CC_ERR_RANGE_INVALID', `"${s('range')}"`);
    if (address && (!inSubnet(a, address.ip, address.prefix) || !inSubnet(b, address.ip, address.prefix)))
      throw ccError('CC_ERR_RANGE_INVALID', `${s('range')} is outside ${address.ip}/${address.prefix}`);
    range = { start: intToIp(a), end: intToIp(b) };
  }
  const dhcp = oneOf('dhcp', s('dhcp'), ['full', 'proxy', 'off'] as const, iface ? (range ? 'full' : 'proxy') : 'off');
  if (dhcp === 'full' && !range) throw ccError('CC_ERR_CONFIG_INVALID', '--dhcp full needs --range START-END');
  if (dhcp !== 'off' && !iface) throw ccError('CC_ERR_CONFIG_INVALID', `--dhcp ${dhcp} needs --iface NAME`);

  const adminListen = s('admin-listen') ?? `${D.DEFAULT_ADMIN_HOST}:${D.DEFAULT_ADMIN_PORT}`;
  const am = /^(.+):(\d+)$/.exec(adminListen);
  if (!am) throw ccError('CC_ERR_CONFIG_INVALID', `--admin-listen must be HOST:PORT, got "${adminListen}"`);
  const adminHost = am[1]!.replace(/^\[|\]$/g, '');
  const loopback = adminHost === '127.0.0.1' || adminHost === '::1' || adminHost === 'localhost';
  if (!loopback && !values['admin-token-required']) throw ccError('CC_ERR_ADMIN_EXPOSED', adminListen);

  let lab: { nodes: number } | null = null;
  const labArg = s('lab') ?? (iface ? undefined : `sim:${D.DEFAULT_LAB_NODES}`);
  if (labArg !== undefined && labArg !== 'off') {
    const lm = /^sim:(\d+)$/.exec(labArg);
    if (!lm) throw ccError('CC_ERR_CONFIG_INVALID', `--lab must be sim:N or off, got "${labArg}"`);
    lab = { nodes: Number(lm[1]) };
  }
  const httpPort = int('http-port', s('http-port'), D.DEFAULT_HTTP_PORT);
  const httpHost = address ? address.ip : '127.0.0.1';
  const cfg = {
    iface,
    ifindex,
    address,
    dhcp,
    range,
    force: Boolean(values.force),
    dataDir: path.resolve(s('data-dir') ?? defaultDataDir(machine.env)),
    http: { host: httpHost, port: httpPort },
    publicUrl: `http://${httpHost}:${httpPort}`,
    admin: { host: adminHost, port: Number(am[2]), exposed: !loopback },
    lab,
    microkernelDir: s('microkernel') ? path.resolve(s('microkernel')!) : null,
    tftpRoot: s('tftp-root') ? path.resolve(s('tftp-root')!) : null,
    efiLoader: oneOf('efi-loader', s('efi-loader'), ['ipxe.efi', 'snponly.efi'] as const, D.DEFAULT_EFI_LOADER),
    logLevel: oneOf('log-level', s('log-level'), ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    rateLimitPerMin: int('rate-limit', s('rate-limit'), D.DEFAULT_NODE_RATE_LIMIT_PER_MIN),
    pools: many('pool').map(parsePoolFlag),
    dhcpOptions: many('dhcp-option').map(parseDhcpOptionFlag),
    conflictCheck: Boolean(values['dhcp-conflict-check']),
    ports: {
      dhcp: int('dhcp-port', s('dhcp-port'), 67),
      proxy: int('proxy-port', s('proxy-port'), 4011),
      tftp: int('tftp-port', s('tftp-port'), 69),
    },
  };
  return finalizeConfig(cfg);
}

/** Validate a complete config object (also used by tests and Electron) and freeze it. */
export function finalizeConfig(cfg: unknown): Config {
  if (!check.Check(cfg)) {
    const first = [...check.Errors(cfg)][0];
    throw ccError('CC_ERR_CONFIG_INVALID', first ? `${first.instancePath || '/'} ${first.message}` : 'unknown');
  }
  checkPools(cfg as Config);
  encodeExtraOptions((cfg as Config).dhcpOptions);
  return deepFreeze(cfg) as Config;
}

/** Help text for `crashcart serve --help`, generated from SERVE_OPTIONS. */
export function serveHelp(): string {
  const lines = Object.entries(SERVE_OPTIONS).map(([k, o]) => {
    const flag = o.type === 'string' ? `--${k} VALUE${'multiple' in o ? ' ...' : ''}` : `--${k}`;
    return `  ${flag.padEnd(28)} ${o.help}`;
  });
  return ['Usage: crashcart serve [options]', '', 'Runs the whole appliance headless.', '', ...lines, ''].join('\n');
}
