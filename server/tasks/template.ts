/**
 * A small, logic-less template language for iPXE scripts and answer files:
 * `{{ path.to.value }}`, `{{#if path}}...{{else}}...{{/if}}`,
 * `{{#each list}}...{{ this }}...{{/each}}`. Parsed once, errors carry the position.
 */

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

function lookup(scope: unknown[], path: string): unknown {
  if (path === 'this') return scope[scope.length - 1];
  const parts = path.split('.');
  for (let i = scope.length - 1; i >= 0; i--) {
    let v: unknown = scope[i];
    if (v === null || typeof v !== 'object' || !(parts[0]! in (v as object))) continue;
    for (const p of parts) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    return v;
  }
  return undefined;
}

const truthy = (v: unknown) => (Array.isArray(v) ? v.length > 0 : Boolean(v));

/** Render a parsed template with a context object. Missing values render as empty. */
export function renderTemplate(t: Template, ctx: Record<string, unknown>): string {
  const out: string[] = [];
  const run = (nodes: Node[], scope: unknown[]) => {
    for (const n of nodes) {
      if (n.k === 'text') out.push(n.s);
      else if (n.k === 'var') {
        const v = lookup(scope, n.path);
        out.push(v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
      } else if (n.k === 'if') run(truthy(lookup(scope, n.path)) ? n.then : n.else, scope);
      else {
        const list = lookup(scope, n.path);
        if (Array.isArray(list)) for (const item of list) run(n.body, [...scope, item]);
      }
    }
  };
  run(t.nodes, [ctx]);
  return out.join('');
}

/** Parse and render in one go. */
export function render(src: string, ctx: Record<string, unknown>): string {
  return renderTemplate(parseTemplate(src), ctx);
}
