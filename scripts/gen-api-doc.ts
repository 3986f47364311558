/**
 * Regenerate docs/api.md from the OpenAPI document of contract/routes.ts:
 * `node bin/run-ts.mjs scripts/gen-api-doc.ts`. Every route with its method,
 * auth, parameters, body and answer; schemas are written as TypeScript-like
 * shapes so the page reads as a reference. A test fails when the page is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openApiDocument, type JsonSchema } from '../server/http/openapi.ts';
import { ADMIN_ROUTES, type RouteSpec } from '../contract/routes.ts';
import { splitRouteKey } from '../contract/route-request.ts';
import { authOf, openApiPath, plainSchema } from '../server/http/openapi.ts';
import { REPO_ROOT } from '../server/boot/microkernel-assets.ts';

/** A schema as a TypeScript-like type, indented by `pad`. */
export function typeText(s: JsonSchema, pad = ''): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.anyOf)) return (s.anyOf as JsonSchema[]).map((m) => typeText(m, pad)).join(' | ');
  switch (s.type) {
    case 'array': {
      const item = typeText((s.items as JsonSchema | undefined) ?? {}, pad);
      return /[|{]/.test(item) ? `(${item})[]` : `${item}[]`;
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const req = new Set((s.required as string[] | undefined) ?? []);
      const pp = s.patternProperties as Record<string, JsonSchema> | undefined;
      const lines = Object.entries(props).map(([k, v]) => `${pad}  ${k}${req.has(k) ? '' : '?'}: ${typeText(v, pad + '  ')};`);
      if (pp) for (const v of Object.values(pp)) lines.push(`${pad}  [key: string]: ${typeText(v, pad + '  ')};`);
      return lines.length ? `{\n${lines.join('\n')}\n${pad}}` : '{}';
    }
    case 'integer':
    case 'number':
    case 'string':
    case 'boolean':
    case 'null':
      return s.type === 'integer' ? 'integer' : s.type;
    default:
      return 'unknown';
  }
}

function route(key: string, spec: RouteSpec): string[] {
  const { method, path: p } = splitRouteKey(key);
  const out = [`### \`${method} ${openApiPath(p)}\``, ''];
  if (spec.summary) out.push(spec.summary + '.', '');
  out.push(`Auth: ${authOf(spec)}.`, '');
  const params = [
    ...Object.entries(((spec.params ? plainSchema(spec.params) : {}).properties ?? {}) as Record<string, JsonSchema>).map(
      ([k, v]) => `| \`${k}\` | path | \`${typeText(v)}\` |`,
    ),
    ...Object.entries(((spec.query ? plainSchema(spec.query) : {}).properties ?? {}) as Record<string, JsonSchema>).map(
      ([k, v]) => `| \`${k}\` | query | \`${typeText(v)}\` |`,
    ),
  ];
  if (params.length) out.push('| parameter | in | type |', '|---|---|---|', ...params.map((r) => r.replace(/\n\s*/g, ' ')), '');
  if (spec.body) out.push('Body (`application/json`):', '', '```ts', typeText(plainSchema(spec.body)), '```', '');
  if (spec.rawBody) out.push(`Body: the raw file (\`${spec.rawBody}\`).`, '');
  const status = spec.status ?? 200;
  if (spec.response) out.push(`Answer ${status}:`, '', '```ts', typeText(plainSchema(spec.response)), '```', '');
  else if (spec.produces)
    out.push(
      `Answer ${status}: ${[spec.produces]
        .flat()
        .map((t) => `\`${t}\``)
        .join(', ')}.`,
      '',
    );
  else out.push(`Answer ${status}: no body.`, '');
  return out;
}

/** The markdown of docs/api.md. */
export function apiDoc(): string {
  const doc = openApiDocument();
  const byTag = new Map<string, string[]>();
  for (const [key, spec] of Object.entries(ADMIN_ROUTES as Record<string, RouteSpec>)) {
    const tag = spec.tags[0] ?? 'other';
    byTag.set(tag, [...(byTag.get(tag) ?? []), ...route(key, spec)]);
  }
  return [
    '# Admin API',
    '',
    `The admin plane of the appliance (OpenAPI ${String(doc.openapi)}). This page is generated from`,
    '`contract/routes.ts` (`node bin/run-ts.mjs scripts/gen-api-doc.ts`); a test fails when it is stale. The running',
    'appliance serves the same document as JSON at `GET /api/v1/openapi.json`; `crashcart <noun> <verb>` calls these',
    'routes (docs/cli.md).',
    '',
    "Authentication: `Authorization: Bearer TOKEN` (`crashcart token` prints it) or the UI's session cookie. Errors",
    'answer `{statusCode, code, error, message, fix}` with a code from docs/errors.md. Types below are JSON shapes:',
    '`?` marks an optional field.',
    '',
    ...[...byTag].flatMap(([tag, lines]) => [`## ${tag}`, '', ...lines]),
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts', 'gen-api-doc.ts')) {
  fs.writeFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), apiDoc());
  process.stdout.write('docs/api.md written\n');
}
