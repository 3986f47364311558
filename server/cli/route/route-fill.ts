/**
 * Fill a route's input from the command line, driven by the route's schemas in
 * contract/routes.ts: positionals fill path parameters (or the body's
 * `node_ids`), `--flag value` fills the query or body property of that name
 * (dashes become underscores), coerced to the type the schema declares, and
 * `--file F` gives the whole body as JSON or YAML (file-body.ts). The appliance validates the result
 * against the same schemas, so a wrong value gets its 400 with the field named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ADMIN_ROUTES, type RouteSpec } from '../../../contract/routes.ts';
import type { RouteRequestInput } from '../../../contract/route-request.ts';
import { ccError } from '../../errors/cc-error.ts';
import type { CliCommand } from './command-table.ts';
import { FILE_BODY_MAX_BYTES, FileBodyError, parseFileBody } from './file-body.ts';

/** A JSON-schema node as TypeBox emits it (only what coercion reads). */
interface SchemaNode {
  type?: string;
  anyOf?: SchemaNode[];
  enum?: unknown[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
}

/** The command line after the noun and verb: positionals and `--name value` flags. */
export interface CommandLine {
  positionals: string[];
  flags: Map<string, string>;
}

function usage(detail: string): Error {
  return ccError('CC_ERR_CLI_USAGE', detail);
}

/** Turn one flag's text into the value its schema declares. */
export function coerce(s: SchemaNode, text: string, name: string): unknown {
  if (s.anyOf) {
    if (text === 'null' && s.anyOf.some((m) => m.type === 'null')) return null;
    const first = s.anyOf.find((m) => m.type !== 'null' && !(m.enum === undefined && m.type === undefined));
    return first ? coerce(first, text, name) : text;
  }
  switch (s.type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw usage(`--${name} wants a number, got "${text}"`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw usage(`--${name} wants true or false, got "${text}"`);
      return text === 'true';
    case 'array':
      if (text.trim().startsWith('[')) return parseJson(text, name);
      return text === '' ? [] : text.split(',').map((p) => coerce(s.items ?? {}, p.trim(), name));
    case 'object':
      return parseJson(text, name);
    default:
      return text;
  }
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw usage(`--${name}: not JSON (${(e as Error).message})`);
  }
}

/** The body read from `--file` (JSON, or YAML: file-body.ts). */
function fileBody(file: string): Record<string, unknown> {
  try {
    // Checked before reading, so a huge file is refused without loading it.
    if (fs.statSync(file).size > FILE_BODY_MAX_BYTES)
      throw new FileBodyError(`the file is over ${FILE_BODY_MAX_BYTES} bytes; a request body is far smaller`);
    return parseFileBody(file, fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw usage(`--file ${file}: ${(e as Error).message}`);
  }
}

const ids = (texts: string[]): number[] =>
  texts.map((t) => {
    if (!/^[1-9]\d{0,9}$/.test(t)) throw usage(`"${t}" is not a node id`);
    return Number(t);
  });

/** Flags every command understands (not sent to the appliance). */
export const GLOBAL_FLAGS = new Set(['json', 'data-dir', 'file', 'follow', 'output']);

/** Build the route input of `cmd` from its command line. */
export function fillRoute(cmd: CliCommand, line: CommandLine): RouteRequestInput {
  const spec: RouteSpec = ADMIN_ROUTES[cmd.route];
  const params: Record<string, string> = {};
  const body: Record<string, unknown> = line.flags.has('file') ? fileBody(line.flags.get('file')!) : {};
  const pos = [...line.positionals];
  for (const a of cmd.args ?? []) {
    if (a === 'manifest-file') {
      const file = pos.shift();
      if (!file) throw usage('missing <FILE.csv|FILE.json>');
      const format = /\.json$/i.test(file) ? 'json' : 'csv';
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (e) {
        throw usage(`${file}: ${(e as Error).message}`);
      }
      Object.assign(body, { format, content_base64: bytes.toString('base64'), source: path.basename(file) });
    } else if (a === 'ids...') {
      if (!pos.length) throw usage('give one or more node ids');
      body.node_ids = ids(pos.splice(0));
    } else {
      const v = pos.shift();
      if (v === undefined) throw usage(`missing <${a}>`);
      params[a] = v;
    }
  }
  if (cmd.pick) pos.shift();
  if (pos.length) throw usage(`unexpected "${pos.join(' ')}"`);
  const query: Record<string, unknown> = {};
  const qProps = (spec.query as SchemaNode | undefined)?.properties ?? {};
  const bProps = (spec.body as SchemaNode | undefined)?.properties ?? {};
  for (const [flag, text] of line.flags) {
    if (GLOBAL_FLAGS.has(flag)) continue;
    const key = flag.replace(/-/g, '_');
    if (qProps[key]) query[key] = coerce(qProps[key], text, flag);
    else if (bProps[key]) body[key] = coerce(bProps[key], text, flag);
    else throw usage(`${cmd.route} takes no --${flag}`);
  }
  // A PUT of a named thing: the name in the path is the name in the body unless the file says otherwise.
  if (spec.body && params.name && bProps.name && body.name === undefined) body.name = params.name;
  return {
    ...(Object.keys(params).length ? { params } : {}),
    ...(Object.keys(query).length ? { query: query as RouteRequestInput['query'] } : {}),
    ...(spec.body ? { body } : {}),
  };
}
