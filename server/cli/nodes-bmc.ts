/**
 * `crashcart nodes power ...` and `crashcart nodes bmc ...`: BMC power and boot control from a shell, through
 * the running appliance's admin API (the only process that writes the data dir). A BMC password is never taken
 * from the command line (`ps` shows it to every user): it comes from standard input or a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BmcInput, Node, PowerRequest, PowerResult } from '../../contract/index.ts';
import { defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { runningAppliance } from './data-dir-route.ts';

/** Usage of both commands (also shown by `crashcart help`). */
export const NODES_BMC_USAGE = `  nodes power --action on|off|soft-off|cycle|reset|status [--boot pxe|disk|bios] [--persistent]
              [--mode uefi|legacy] [--json] [--data-dir DIR] ID...
                             power nodes through their BMCs (per node: result, power state, warnings)
  nodes bmc set ID --driver ipmi|redfish --address HOST --user NAME (--password-stdin | --password-file FILE)
              [--port N] [--system-path /redfish/v1/Systems/X] [--tls pin|verify|skip] [--cipher-suite N]
  nodes bmc show ID | clear ID | accept ID [--address HOST]   [--json] [--data-dir DIR]
`;

const out = (s: string) => process.stdout.write(s + '\n');
const usage = (why: string) => ccError('CC_ERR_CONFIG_INVALID', `${why}\nusage:\n${NODES_BMC_USAGE}`);

const OPTIONS = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  action: { type: 'string' },
  boot: { type: 'string' },
  persistent: { type: 'boolean' },
  mode: { type: 'string' },
  driver: { type: 'string' },
  address: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'password-file': { type: 'string' },
  'system-path': { type: 'string' },
  tls: { type: 'string' },
  'cipher-suite': { type: 'string' },
} as const;

function nodeId(s: string | undefined): number {
  const n = Number(s);
  if (!s || !Number.isInteger(n) || n < 1) throw usage(`"${s ?? ''}" is not a node id`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw usage(`--${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** The password from standard input (first line) or a file, never from argv. */
function readPassword(v: { 'password-stdin'?: boolean; 'password-file'?: string }): string {
  if (v['password-stdin'] && v['password-file']) throw usage('give --password-stdin or --password-file, not both');
  if (v['password-file']) return fs.readFileSync(path.resolve(v['password-file']), 'utf8').split(/\r?\n/)[0] ?? '';
  if (v['password-stdin']) return fs.readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  throw usage('the BMC password is read from --password-stdin or --password-file (never the command line, which `ps` shows)');
}

/** One line per node of a power result. */
function powerTable(r: PowerResult): string[] {
  return r.results.map((x) => {
    const what = x.ok ? `ok    power ${x.power ?? '?'}` : `FAIL  ${x.code ?? ''} ${x.reason ?? ''}`.trimEnd();
    return [`node ${x.node_id}`.padEnd(12) + what, ...(x.warnings ?? []).map((w) => `            warning: ${w}`)].join('\n');
  });
}

/** A node's BMC in a few lines. */
function bmcLines(n: Node): string[] {
  const b = n.bmc;
  const e = n.bmc_enrolment;
  return [
    b
      ? `node ${n.id}: ${b.driver} ${b.address}:${b.port} user ${b.username} password ${b.password_set ? 'set' : 'not set'}` +
        (b.driver === 'redfish'
          ? ` tls ${b.tls}${b.tls_fingerprint ? ` pinned ${b.tls_fingerprint}` : ''}${b.system_path ? ` ${b.system_path}` : ''}`
          : '')
      : `node ${n.id}: no BMC`,
    ...(n.power ? [`  power ${n.power.state} (checked ${n.power.checked_at})`] : []),
    ...(e ? [`  in-band enrolment: ${e.state}${e.address ? ` at ${e.address}` : ''}${e.reason ? `: ${e.reason}` : ''}`] : []),
    ...(n.bmc_redfish ? [`  redfish: ${n.bmc_redfish.detected ? `yes, ${n.bmc_redfish.version}` : `no (${n.bmc_redfish.reason})`}`] : []),
  ];
}

/** `crashcart nodes power|bmc ...`; resolves with the exit status. */
export async function nodesBmcCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [sub, verb, ...rest] = positionals;
  const client = await runningAppliance(path.resolve(v['data-dir'] ?? defaultDataDir(process.env)));
  const show = (x: unknown, lines: () => string[]) => out(v.json ? JSON.stringify(x, null, 2) : lines().join('\n'));

  if (sub === 'power') {
    const action = oneOf('action', v.action, ['on', 'off', 'soft-off', 'cycle', 'reset', 'status'] as const);
    if (!action) throw usage('--action is required');
    const ids = [verb, ...rest].filter((x): x is string => x !== undefined).map(nodeId);
    if (ids.length === 0) throw usage('name at least one node id');
    const body: PowerRequest = {
      node_ids: ids,
      action,
      ...(v.boot ? { boot: oneOf('boot', v.boot, ['pxe', 'disk', 'bios'] as const)! } : {}),
      ...(v.persistent ? { persistent: true } : {}),
      ...(v.mode ? { mode: oneOf('mode', v.mode, ['uefi', 'legacy'] as const)! } : {}),
    };
    if (action === 'on' || action === 'cycle' || action === 'reset')
      process.stderr.write(`powering ${ids.length} node(s) ${action} (a few seconds apart: power_stagger_s)...\n`);
    const r = await client.call<PowerResult>('POST', '/api/v1/nodes/power', { json: body });
    show(r, () => powerTable(r));
    return r.results.every((x) => x.ok) ? 0 : 1;
  }
  if (sub === 'bmc') {
    const id = nodeId(rest.length ? rest[0] : undefined);
    if (rest.length !== 1) throw usage(`nodes bmc ${verb ?? ''} takes one node id`);
    let n: Node;
    if (verb === 'set') {
      if (!v.driver || !v.address || !v.user) throw usage('--driver, --address and --user are required');
      const input: BmcInput = {
        driver: oneOf('driver', v.driver, ['ipmi', 'redfish'] as const)!,
        address: v.address,
        username: v.user,
        password: readPassword(v),
        ...(v.port ? { port: Number(v.port) } : {}),
        ...(v['system-path'] ? { system_path: v['system-path'] } : {}),
        ...(v.tls ? { tls: oneOf('tls', v.tls, ['pin', 'verify', 'skip'] as const)! } : {}),
        ...(v['cipher-suite'] ? { ipmi_cipher_suite: Number(v['cipher-suite']) } : {}),
      };
      n = await client.call<Node>('PUT', `/api/v1/nodes/${id}/bmc`, { json: input });
    } else if (verb === 'clear') n = await client.call<Node>('DELETE', `/api/v1/nodes/${id}/bmc`);
    else if (verb === 'accept')
      n = await client.call<Node>('POST', `/api/v1/nodes/${id}/bmc/accept`, { json: v.address ? { address: v.address } : {} });
    else if (verb === 'show') n = await client.call<Node>('GET', `/api/v1/nodes/${id}`);
    else throw usage(`unknown "nodes bmc ${verb ?? ''}"`);
    show({ id: n.id, bmc: n.bmc, power: n.power, bmc_enrolment: n.bmc_enrolment, bmc_redfish: n.bmc_redfish }, () => bmcLines(n));
    return 0;
  }
  throw usage(`unknown "nodes ${sub ?? ''}"`);
}
