/**
 * A small, logic-less template language for iPXE scripts and answer files:
 * `{{ path.to.value }}`, `{{#if path}}...{{else}}...{{/if}}`,
 * `{{#each list}}...{{ this }}...{{/each}}`. Parsed once, errors carry the position.
 * Values wrapped in `Untrusted` (whatever a node sent) are written only through the
 * caller's escaper, however deep they sit (docs/identity.md 4).
 */

/** A value that came from a node: rendered only through the escaper. */
export class Untrusted {
  constructor(readonly value: unknown) {}

  /** JSON of a wrapped value is the value's own. */
  toJSON(): unknown {
    return this.value;
  }
}

/** How rendering writes untrusted values. */
export interface RenderOptions {
  /** Turns node text into text safe in the target language (e.g. a whitelist). */
  escape: (text: string) => string;
}

/** A parse error with its offset and line. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TemplateError';
  }
}

type Node =
  | { k: 'text'; s: string }
  | { k: 'var'; path: string }
  | { k: 'if'; path: string; then: Node[]; else: Node[] }
  | { k: 'each'; path: string; body: Node[] };

/** A parsed template. */
export interface Template {
  nodes: Node[];
}

const TAG = /\{\{\s*([#/]?)\s*([a-zA-Z_][\w.]*|else)?\s*([a-zA-Z_][\w.]*)?\s*\}\}/g;

/** Parse template source; throws TemplateError naming the line. */
export function parseTemplate(src: string): Template {
  const lineOf = (off: number) => src.slice(0, off).split('\n').length;
  const root: Node[] = [];
  const stack: { node: Node & { k: 'if' | 'each' }; into: Node[]; off: number }[] = [];
  let cur = root;
  let last = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(src); m; m = TAG.exec(src)) {
    if (m.index > last) cur.push({ k: 'text', s: src.slice(last, m.index) });
    last = m.index + m[0].length;
    const [, sigil, word, arg] = m;
    if (sigil === '#') {
      if ((word !== 'if' && word !== 'each') || !arg)
        throw new TemplateError(`expected {{#if name}} or {{#each name}}, got ${m[0]}`, m.index, lineOf(m.index));
      const node: Node & { k: 'if' | 'each' } =
        word === 'if' ? { k: 'if', path: arg, then: [], else: [] } : { k: 'each', path: arg, body: [] };
      cur.push(node);
      stack.push({ node, into: cur, off: m.index });
      cur = node.k === 'if' ? node.then : node.body;
    } else if (sigil === '/') {
      const top = stack.pop();
      if (!top || top.node.k !== word) throw new TemplateError(`unexpected ${m[0]}`, m.index, lineOf(m.index));
      cur = top.into;
    } else if (word === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.node.k !== 'if') throw new TemplateError('{{else}} outside {{#if}}', m.index, lineOf(m.index));
      cur = top.node.else;
    } else if (word && !arg) cur.push({ k: 'var', path: word });
    else throw new TemplateError(`cannot read ${m[0]}`, m.index, lineOf(m.index));
  }
  const open = stack.pop();
  if (open) throw new TemplateError(`{{#${open.node.k}}} is never closed`, open.off, lineOf(open.off));
  const stray = src.indexOf('{{', last);
  if (stray >= 0) throw new TemplateError('unterminated {{', stray, lineOf(stray));
  if (last < src.length) cur.push({ k: 'text', s: src.slice(last) });
  return { nodes: root };
}

/** A value found by a path, and whether any step of the way was untrusted. */
interface Found {
  v: unknown;
  tainted: boolean;
}

const unwrap = (v: unknown, tainted: boolean): Found => (v instanceof Untrusted ? { v: v.value, tainted: true } : { v, tainted });

function lookup(scope: Found[], path: string): Found {
  if (path === 'this') return scope[scope.length - 1] ?? { v: undefined, tainted: false };
  const parts = path.split('.');
  for (let i = scope.length - 1; i >= 0; i--) {
    let cur = scope[i]!;
    if (cur.v === null || typeof cur.v !== 'object' || !Object.hasOwn(cur.v, parts[0]!)) continue;
    for (const p of parts)
      cur =
        cur.v !== null && typeof cur.v === 'object' && Object.hasOwn(cur.v, p)
          ? unwrap((cur.v as Record<string, unknown>)[p], cur.tainted)
          : { v: undefined, tainted: cur.tainted };
    return cur;
  }
  return { v: undefined, tainted: false };
}

/** True when an object holds an untrusted value anywhere (so its JSON must be escaped too). */
function holdsUntrusted(v: unknown, depth = 0): boolean {
  if (v instanceof Untrusted) return true;
  if (v === null || typeof v !== 'object' || depth > 32) return false;
  return Object.values(v).some((x) => holdsUntrusted(x, depth + 1));
}

const truthy = (v: unknown) => (Array.isArray(v) ? v.length > 0 : Boolean(v));

/** Render a parsed template with a context object. Missing values render as empty. */
export function renderTemplate(t: Template, ctx: Record<string, unknown>, opts: RenderOptions): string {
  const out: string[] = [];
  const run = (nodes: Node[], scope: Found[]) => {
    for (const n of nodes) {
      if (n.k === 'text') out.push(n.s);
      else if (n.k === 'var') {
        const { v, tainted } = lookup(scope, n.path);
        if (v === undefined || v === null) continue;
        const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
        out.push(tainted || holdsUntrusted(v) ? opts.escape(text) : text);
      } else if (n.k === 'if') run(truthy(lookup(scope, n.path).v) ? n.then : n.else, scope);
      else {
        const list = lookup(scope, n.path);
        if (Array.isArray(list.v)) for (const item of list.v) run(n.body, [...scope, unwrap(item, list.tainted)]);
      }
    }
  };
  run(t.nodes, [{ v: ctx, tainted: false }]);
  return out.join('');
}

/** Parse and render in one go. */
export function render(src: string, ctx: Record<string, unknown>, opts: RenderOptions): string {
  return renderTemplate(parseTemplate(src), ctx, opts);
}
