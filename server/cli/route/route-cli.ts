/**
 * `crashcart <noun> <verb> [args] [--flags]`: every admin route the UI calls,
 * from the command line. The noun/verb names a route of contract/routes.ts
 * (command-table.ts), route-fill.ts builds its input from the schemas, the
 * admin client sends it to the running appliance, and the answer prints as a
 * table (or JSON with `--json`). `events --follow` and `export FORMAT` stream
 * a non-JSON answer instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { routeRequest } from '../../../contract/route-request.ts';
import { EXPORT_FORMATS, EXPORT_FORMAT_NAMES } from '../../../contract/export-formats.ts';
import { ccError } from '../../errors/cc-error.ts';
import { defaultDataDir } from '../../config/load.ts';
import { CLI_COMMANDS, type CliCommand } from './command-table.ts';
import { fillRoute, type CommandLine } from './route-fill.ts';
import { human, listOf } from './output-format.ts';
import { shownControls, terminalJson } from '../../core/terminal-text.ts';
import { connect, type CliEnv } from './connection.ts';
import { followEvents } from './events-follow.ts';
import { fileError } from '../cli-errors.ts';

/** Flags that take no value. */
const SWITCHES = new Set(['json', 'follow']);

/** Nouns handled here (main.ts sends them to `routeCommand`). */
export const ROUTE_NOUNS = new Set([...Object.keys(CLI_COMMANDS), 'export']);

/** Split argv into positionals and `--name value` / `--name=value` / `--switch` flags. */
export function commandLine(argv: readonly string[]): CommandLine {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) flags.set(name, a.slice(eq + 1));
    else if (SWITCHES.has(name)) flags.set(name, 'true');
    else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
    else throw ccError('CC_ERR_CLI_USAGE', `--${name} needs a value`);
  }
  return { positionals, flags };
}

/** `crashcart help NOUN`: its verbs; `crashcart help`: the nouns. */
export function routeHelp(noun?: string): string {
  if (noun === 'export')
    return `crashcart export FORMAT [--output FILE] [--ids 3,7,12] [--part devices|interfaces|ip-addresses (netbox)]\n${EXPORT_FORMAT_NAMES.map((f) => `  ${f.padEnd(11)} ${EXPORT_FORMATS[f].what}`).join('\n')}\n`;
  const verbs = noun ? CLI_COMMANDS[noun] : undefined;
  if (!verbs) {
    const nouns = Object.entries(CLI_COMMANDS).map(([n, v]) => `  ${n.padEnd(13)} ${Object.keys(v).join(' | ')}`);
    return `Appliance commands (talk to the running appliance; --json prints the answer as JSON):\n${nouns.join('\n')}\n  events        --follow (live, resumes with Last-Event-ID)\n  export        ${EXPORT_FORMAT_NAMES.join(' | ')}\n`;
  }
  const lines = Object.entries(verbs).map(
    ([v, c]) => `  ${noun} ${v.padEnd(11)} ${c.summary}\n  ${''.padEnd(noun!.length + 13)}(${c.route})`,
  );
  return `crashcart ${noun} VERB [args] [--json] [--data-dir DIR]\n${lines.join('\n')}\n`;
}

/** Where the command's output goes. */
export interface CliIo {
  env: CliEnv;
  /** Standard output: text, or an export's body as the appliance sent it (bytes). */
  write: (s: string | Uint8Array) => void;
  warn: (s: string) => void;
  /** Standard output is a terminal (an export shown there has its control characters neutralised). */
  tty: boolean;
}

function resolve(noun: string, verb: string | undefined): CliCommand {
  const verbs = CLI_COMMANDS[noun]!;
  const cmd = verb ? verbs[verb] : undefined;
  if (!cmd) throw ccError('CC_ERR_CLI_USAGE', `${noun} ${verb ?? ''}: verbs are ${Object.keys(verbs).join(', ')}`);
  return cmd;
}

/**
 * `crashcart export FORMAT [--output FILE]`: the download, to stdout or a file. A file or a pipe gets the bytes as
 * sent (a CSV keeps the rack's control characters, quoted); a terminal gets them with the controls but tab, CR and
 * LF shown as `?` (node text is the rack's: an escape sequence in a serial must not drive the operator's terminal).
 */
async function exportCommand(line: CommandLine, dataDir: string, io: CliIo): Promise<void> {
  const format = line.positionals[0];
  if (!format || !(EXPORT_FORMAT_NAMES as string[]).includes(format))
    throw ccError('CC_ERR_CLI_USAGE', `export FORMAT: one of ${EXPORT_FORMAT_NAMES.join(', ')}`);
  const client = await connect(io.env, dataDir);
  const part = line.flags.get('part');
  const ids = line.flags.get('ids');
  const res = await client.open(routeRequest('GET /api/v1/export/:format', { params: { format }, query: { part, ids } }).path);
  const out = line.flags.get('output');
  if (out) {
    try {
      await pipeline(res, fs.createWriteStream(out));
    } catch (e) {
      throw fileError(e, '--output', out);
    }
    io.warn(`${format} export written to ${out}\n`);
  } else if (io.tty) {
    // Decoded as a stream: a character split between two chunks stays one character.
    res.setEncoding('utf8');
    for await (const d of res) io.write(shownControls(d as string, true));
  } else for await (const d of res) io.write(d as Buffer);
}

/** Run one appliance command; resolves with the process exit code. */
export async function routeCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [noun, maybeVerb, ...rest] = argv;
  const line0 = commandLine(maybeVerb?.startsWith('--') ? [maybeVerb, ...rest] : rest);
  const dataDir = path.resolve(line0.flags.get('data-dir') ?? defaultDataDir(process.env));
  if (noun === 'export') {
    await exportCommand(commandLine([maybeVerb ?? '', ...rest].filter(Boolean)), dataDir, io);
    return 0;
  }
  const json = line0.flags.has('json');
  if (noun === 'events' && line0.flags.has('follow')) {
    const after = line0.flags.get('after');
    return followEvents(await connect(io.env, dataDir), {
      json,
      write: io.write,
      warn: io.warn,
      ...(after ? { after: Number(after) } : {}),
    });
  }
  const verb = maybeVerb?.startsWith('--') ? undefined : maybeVerb;
  const cmd = resolve(noun!, verb ?? (CLI_COMMANDS[noun!]!.list ? 'list' : CLI_COMMANDS[noun!]!.show ? 'show' : undefined));
  const input = fillRoute(cmd, line0);
  const req = routeRequest(cmd.route, input);
  const client = await connect(io.env, dataDir);
  let answer = await client.call<unknown>(req.method, req.path, req.body === undefined ? undefined : { json: req.body });
  if (cmd.pick) {
    const want = line0.positionals[0];
    answer = (listOf(answer) ?? []).find((r) => r[cmd.pick!] === want);
    if (!answer) throw ccError('CC_ERR_NOT_FOUND', `${noun} "${want ?? ''}"`);
  }
  io.write(json ? terminalJson(JSON.stringify(answer ?? null, null, 2)) + '\n' : human(answer, cmd.columns));
  const failed = (answer as { results?: { ok: boolean }[] } | null)?.results?.filter((r) => !r.ok).length ?? 0;
  if (failed) io.warn(`${failed} node(s) refused; see the reason column\n`);
  return failed ? 1 : 0;
}
