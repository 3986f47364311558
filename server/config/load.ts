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
import { oneOf, resolveNetwork, type MachineView } from './network.ts';
import { resolveAdmin } from './admin.ts';
import { checkPools, parsePoolFlag } from '../dhcp/pools.ts';
import { encodeExtraOptions, parseDhcpOptionFlag } from '../dhcp/extra-options.ts';

export type { MachineView } from './network.ts';

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
  'admin-token-required': {
    type: 'boolean',
    help: 'allow --admin-listen beyond loopback: every request needs the token or a session, HTTPS only',
  },
  'admin-hostname': {
    type: 'string',
    multiple: true,
    help: 'a DNS name the admin UI is opened by (repeatable; loopback and the listen address always work)',
  },
  'admin-cert': { type: 'string', help: 'PEM certificate for the HTTPS admin plane (default: self-signed in the data dir)' },
  'admin-key': { type: 'string', help: 'PEM private key of --admin-cert' },
  'session-idle': { type: 'string', help: 'a browser session ends after this idle time (default 8h)' },
  'session-lifetime': { type: 'string', help: 'a browser session ends this long after sign-in (default 24h)' },
  lab: { type: 'string', help: `sim:N runs a simulated rack of N nodes (default sim:${D.DEFAULT_LAB_NODES} when no --iface)` },
  microkernel: { type: 'string', help: 'folder with vmlinuz, initrd.img, manifest.json' },
  'tftp-root': { type: 'string', help: 'extra folder served by TFTP beside resources/ipxe' },
  'efi-loader': { type: 'string', help: 'ipxe.efi | snponly.efi for UEFI x86: sets the setting default_efi_loader at start' },
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
  'dhcp-warm-start': {
    type: 'string',
    help: 'on | off: run synthetic DHCP exchanges in memory after start so the first real ones are fast (default on)',
  },
  'http-copy': { type: 'boolean', help: 'copy node-plane files from memory instead of sendfile(2) (to compare; see docs/performance.md)' },
  'tftp-js': {
    type: 'boolean',
    help: "run TFTP transfers in JavaScript instead of Crashcart's native pump (to compare; see docs/performance.md)",
  },
  'dhcp-js': {
    type: 'boolean',
    help: "read DHCP through Node's datagram layer instead of Crashcart's batching addon (to compare; see docs/performance.md)",
  },
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
      options: Object.fromEntries(
        Object.entries(SERVE_OPTIONS).map(([k, o]) => [k, { type: o.type, ...('multiple' in o ? { multiple: o.multiple } : {}) }]),
      ),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    throw ccError('CC_ERR_CONFIG_INVALID', (e as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const many = (k: string) => (values[k] as string[] | undefined) ?? [];
  const httpPort = int('http-port', s('http-port'), D.DEFAULT_HTTP_PORT);
  const net = resolveNetwork(
    { iface: s('iface'), address: s('address'), dhcp: s('dhcp'), range: s('range'), force: Boolean(values.force) },
    httpPort,
    machine,
  );
  const admin = resolveAdmin({
    listen: s('admin-listen'),
    tokenRequired: Boolean(values['admin-token-required']),
    hostnames: values['admin-hostname'] as string[] | undefined,
    cert: s('admin-cert'),
    key: s('admin-key'),
    sessionIdle: s('session-idle'),
    sessionLifetime: s('session-lifetime'),
  });

  let lab: { nodes: number } | null = null;
  const labArg = s('lab') ?? (net.iface ? undefined : `sim:${D.DEFAULT_LAB_NODES}`);
  if (labArg !== undefined && labArg !== 'off') {
    const lm = /^sim:(\d+)$/.exec(labArg);
    if (!lm) throw ccError('CC_ERR_CONFIG_INVALID', `--lab must be sim:N or off, got "${labArg}"`);
    lab = { nodes: Number(lm[1]) };
  }
  const cfg = {
    ...net,
    dataDir: path.resolve(s('data-dir') ?? defaultDataDir(machine.env)),
    admin,
    lab,
    microkernelDir: s('microkernel') ? path.resolve(s('microkernel')!) : null,
    tftpRoot: s('tftp-root') ? path.resolve(s('tftp-root')!) : null,
    // Seeds the setting default_efi_loader at start (the one source of truth, which the UI changes); absent: the stored setting stands.
    efiLoader:
      s('efi-loader') === undefined
        ? null
        : oneOf('efi-loader', s('efi-loader'), ['ipxe.efi', 'snponly.efi'] as const, D.DEFAULT_EFI_LOADER),
    logLevel: oneOf('log-level', s('log-level'), ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    rateLimitPerMin: int('rate-limit', s('rate-limit'), D.DEFAULT_NODE_RATE_LIMIT_PER_MIN),
    pools: many('pool').map(parsePoolFlag),
    dhcpOptions: many('dhcp-option').map(parseDhcpOptionFlag),
    conflictCheck: Boolean(values['dhcp-conflict-check']),
    dhcpWarmStart: oneOf('dhcp-warm-start', s('dhcp-warm-start'), ['on', 'off'] as const, 'on') === 'on',
    httpCopy: Boolean(values['http-copy']),
    tftpJs: Boolean(values['tftp-js']),
    dhcpJs: Boolean(values['dhcp-js']),
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
