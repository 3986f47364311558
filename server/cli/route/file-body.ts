/**
 * The body of `--file F` (pure: text in, object out). `.json` files are JSON;
 * anything else is YAML 1.2 (JSON is valid YAML too, so either works there).
 * A file is an operator's, but it may be one mailed with a rack, so YAML's
 * sharp edges are refused rather than followed: anchors and aliases (the
 * "billion laughs" expansion; a request body never needs them), tags the core
 * schema does not know (`!!js/function`, `!custom`: YAML 1.2 10.3 lets a
 * loader resolve them to code), duplicate keys (which one wins is a guess),
 * several documents in one file, and files over FILE_BODY_MAX_BYTES. Every
 * refusal says where: `line L, column C`.
 */
import { LineCounter, isAlias, parseAllDocuments, visit, type Document } from 'yaml';

/** Larger than any body a route takes (a policy with its metadata is a few KiB), small enough to parse at once. */
export const FILE_BODY_MAX_BYTES = 1024 * 1024;

/** Why a file is not a body; `where` is `line L, column C` when the parser knows it. */
export class FileBodyError extends Error {
  /** `line L, column C` or null. */
  readonly where: string | null;
  constructor(reason: string, where: string | null = null) {
    super(where ? `${where}: ${reason}` : reason);
    this.where = where;
  }
}

const at = (pos: { line: number; col: number } | undefined): string | null => (pos ? `line ${pos.line}, column ${pos.col}` : null);

/** JSON.parse; on failure the place comes from its message (`position N`) or, when Node gives none, from the YAML parser reading the same text (JSON is YAML 1.2). */
function jsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const lc = new LineCounter();
    const docs = parseAllDocuments(text, { schema: 'json', lineCounter: lc });
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? lc.linePos(Number(m[1])) : Array.isArray(docs) ? docs[0]?.errors[0]?.linePos?.[0] : undefined;
    throw new FileBodyError(`not JSON (${(e as Error).message.split('\n')[0]})`, at(pos));
  }
}

/** The first message line of a yaml error (its own "at line" suffix dropped: we say where ourselves). */
const firstLine = (m: string): string => m.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');

function yamlBody(text: string): unknown {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { schema: 'core', customTags: [], merge: false, uniqueKeys: true, lineCounter: lc });
  const list: Document[] = Array.isArray(docs) ? docs : [];
  const second = list[1]?.range?.[0];
  if (list.length > 1)
    throw new FileBodyError('one YAML document per file (found a second `---`)', second === undefined ? null : at(lc.linePos(second)));
  const doc = list[0];
  if (!doc) return null;
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new FileBodyError(`not valid YAML: ${firstLine(problem.message)}`, at(problem.linePos?.[0]));
  let refused: FileBodyError | null = null;
  visit(doc, (_key, node) => {
    const n = node as { anchor?: string; range?: [number, number, number] };
    if (isAlias(node) || n.anchor) {
      refused = new FileBodyError(
        'YAML anchors and aliases (&, *) are not accepted in a request body',
        at(n.range ? lc.linePos(n.range[0]) : undefined),
      );
      return visit.BREAK;
    }
    return undefined;
  });
  if (refused) throw refused;
  return doc.toJS({ maxAliasCount: 0 }) as unknown;
}

/** Parse `text` (read from `name`) into the request body object. */
export function parseFileBody(name: string, text: string): Record<string, unknown> {
  if (Buffer.byteLength(text) > FILE_BODY_MAX_BYTES)
    throw new FileBodyError(`the file is over ${FILE_BODY_MAX_BYTES} bytes; a request body is far smaller`);
  const v = /\.json$/i.test(name) ? jsonBody(text) : yamlBody(text);
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new FileBodyError('the file must hold one object (key: value lines, or {...})');
  return v as Record<string, unknown>;
}
