/**
 * `crashcart nodes power ...` and `crashcart nodes bmc ...`: BMC power and boot control from a shell, through
 * the running appliance's admin API (the only process that writes the data dir). A BMC password is never taken
 * from the command line (`ps` shows it to every user): it comes from standard input or a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BmcInput, Node, NodeFromBmcAnswer, PowerRequest, PowerResult } from '../../contract/index.ts';
import { defaultDataDir } from '../config/load.ts';
import { runningAppliance } from './data-dir-route.ts';
import { CliUsageError, fileError } from './cli-errors.ts';
import { cellText } from './route/output-format.ts';
import { terminalJson } from '../core/terminal-text.ts';

/** Usage of both commands (also shown by `crashcart help`). */
export const NODES_BMC_USAGE = `  nodes power --action on|off|soft-off|cycle|reset|status [--boot pxe|disk|bios] [--persistent]
              [--mode uefi|legacy] [--json] [--data-dir DIR] ID...
                             power nodes through their BMCs (per node: result, power state, warnings)
  nodes bmc set ID --driver ipmi|redfish --address HOST --user NAME (--password-stdin | --password-file FILE)
              [--port N] [--system-path /redfish/v1/Systems/X] [--tls pin|verify|skip] [--cipher-suite N]
  nodes bmc show ID | clear ID | accept ID [--address HOST] | enrol ID   [--json] [--data-dir DIR]
  nodes bmc expect --driver ipmi|redfish --address HOST --user NAME (--password-stdin | --password-file FILE)
              [--hostname NAME] [--port N] [--system-path P] [--tls pin|verify|skip] [--cipher-suite N]
                             a machine never seen: read its UUID/serial/MACs from its BMC, keep an expected record
  nodes bmc identify ID      an expected (manifest) record with a BMC set takes the identifiers its BMC gives
`;

const out = (s: string) => process.stdout.write(s + '\n');
const usage = (why: string) => new CliUsageError('CC_ERR_CONFIG_INVALID', why, `usage:\n${NODES_BMC_USAGE}`);

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
  hostname: { type: 'string' },
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
  const file = v['password-file'];
  if (file) {
    try {
      return fs.readFileSync(path.resolve(file), 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (e) {
      throw fileError(e, '--password-file', file);
    }
  }
  if (v['password-stdin']) return fs.readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  throw usage('the BMC password is read from --password-stdin or --password-file (never the command line, which `ps` shows)');
}

/** The lines of a power result: one per node, then its warnings. */
export function powerTable(r: PowerResult): string[] {
  return r.results.flatMap((x) => {
    const what = x.ok ? `ok    power ${x.power ?? '?'}` : `FAIL  ${x.code ?? ''} ${x.reason ?? ''}`.trimEnd();
    return [`node ${x.node_id}`.padEnd(12) + what, ...(x.warnings ?? []).map((w) => `            warning: ${w}`)];
  });
}

/** A node's BMC in a few lines. */
export function bmcLines(n: Node): string[] {
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

/** The BMC fields of `set` and `expect`, from the options (the password from stdin or a file). */
function bmcInput(v: Record<string, string | boolean | undefined>): BmcInput {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (!str('driver') || !str('address') || !str('user')) throw usage('--driver, --address and --user are required');
  return {
    driver: oneOf('driver', str('driver'), ['ipmi', 'redfish'] as const)!,
    address: str('address')!,
    username: str('user')!,
    password: readPassword(v as { 'password-stdin'?: boolean; 'password-file'?: string }),
    ...(str('port') ? { port: Number(str('port')) } : {}),
    ...(str('system-path') ? { system_path: str('system-path') } : {}),
    ...(str('tls') ? { tls: oneOf('tls', str('tls'), ['pin', 'verify', 'skip'] as const)! } : {}),
    ...(str('cipher-suite') ? { ipmi_cipher_suite: Number(str('cipher-suite')) } : {}),
  };
}

/** What a from-BMC answer says, in lines. */
export function identityLines(a: NodeFromBmcAnswer): string[] {
  const i = a.identity;
  return [
    `node ${a.node.id}: ${a.node.state}${a.node.hostname ? ` ${a.node.hostname}` : ''}, claimed by the machine that boots with:`,
    ...(i.uuid ? [`  uuid   ${i.uuid}`] : []),
    ...(i.serial ? [`  serial ${i.serial}`] : []),
    ...i.macs.map((m) => `  mac    ${m}`),
    ...a.warnings.map((w) => `  warning: ${w}`),
    ...bmcLines(a.node),
  ];
}

/**
 * What a command prints for `answer` (without the final newline): JSON with `--json`, else its lines, each one
 * through the control filter. A BMC's error text, serial and Redfish version and the agent's enrolment reason are
 * the rack's (docs/security.md): an escape sequence in them must not reach the operator's terminal.
 */
export function bmcOutput(answer: unknown, json: boolean, lines: () => readonly string[]): string {
  return json ? terminalJson(JSON.stringify(answer, null, 2)) : lines().map(cellText).join('\n');
}

/** `crashcart nodes power|bmc ...`; resolves with the exit status. */
export async function nodesBmcCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [sub, verb, ...rest] = positionals;
  const client = await runningAppliance(path.resolve(v['data-dir'] ?? defaultDataDir(process.env)));
  const show = (x: unknown, lines: () => string[]) => out(bmcOutput(x, Boolean(v.json), lines));

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
  if (sub === 'bmc' && verb === 'expect') {
    if (rest.length) throw usage('nodes bmc expect takes no node id (it makes the record)');
    process.stderr.write(`reading the machine's identifiers from ${v.address ?? '?'}...\n`);
    const a = await client.call<NodeFromBmcAnswer>('POST', '/api/v1/nodes/from-bmc', {
      json: { bmc: bmcInput(v), ...(v.hostname ? { hostname: v.hostname } : {}) },
    });
    show(a, () => identityLines(a));
    return 0;
  }
  if (sub === 'bmc') {
    const id = nodeId(rest.length ? rest[0] : undefined);
    if (rest.length !== 1) throw usage(`nodes bmc ${verb ?? ''} takes one node id`);
    let n: Node;
    if (verb === 'identify') {
      const a = await client.call<NodeFromBmcAnswer>('POST', `/api/v1/nodes/${id}/bmc/identify`, { json: {} });
      show(a, () => identityLines(a));
      return 0;
    }
    if (verb === 'set') n = await client.call<Node>('PUT', `/api/v1/nodes/${id}/bmc`, { json: bmcInput(v) });
    else if (verb === 'enrol') n = await client.call<Node>('POST', `/api/v1/nodes/${id}/bmc/enrol`, { json: {} });
    else if (verb === 'clear') n = await client.call<Node>('DELETE', `/api/v1/nodes/${id}/bmc`);
    else if (verb === 'accept')
      n = await client.call<Node>('POST', `/api/v1/nodes/${id}/bmc/accept`, { json: v.address ? { address: v.address } : {} });
    else if (verb === 'show') n = await client.call<Node>('GET', `/api/v1/nodes/${id}`);
    else throw usage(`unknown "nodes bmc ${verb ?? ''}"`);
    show({ id: n.id, bmc: n.bmc, power: n.power, bmc_enrolment: n.bmc_enrolment, bmc_redfish: n.bmc_redfish }, () => bmcLines(n));
    return 0;
  }
  throw usage(`unknown "nodes ${sub ?? ''}"`);
}
