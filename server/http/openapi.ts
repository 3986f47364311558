/**
 * The OpenAPI 3.1 document of the admin API, generated from contract/routes.ts
 * alone (pure: the table in, a plain object out). OpenAPI 3.1 schemas are JSON
 * Schema 2020-12 (OpenAPI 3.1.0 4.8.24), which TypeBox schemas already are, so
 * each schema is copied as it is. Served at GET /api/v1/openapi.json and
 * rendered into docs/api.md (scripts/gen-api-doc.ts).
 */
import { ADMIN_ROUTES, type RouteSpec } from '../../contract/routes.ts';
import { splitRouteKey } from '../../contract/route-request.ts';

/** A JSON Schema as plain data (TypeBox's symbol keys dropped). */
export type JsonSchema = Record<string, unknown>;

/** A schema as plain JSON. */
export function plainSchema(s: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(s)) as JsonSchema;
}

/** `/api/v1/nodes/:id` -> `/api/v1/nodes/{id}` (OpenAPI 3.1.0 4.8.8 path templating). */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** Who may call a route, in words (docs/security.md "Admin credentials"). */
export function authOf(spec: RouteSpec): string {
  return spec.auth === 'open' ? 'none' : spec.auth === 'token' ? 'bearer token only' : 'bearer token or session cookie';
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    const s = schema ? plainSchema(schema) : null;
    const props = (s?.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((s?.required as string[] | undefined) ?? []);
    for (const [name, p] of Object.entries(props))
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: p });
  }
  return out;
}

function responses(spec: RouteSpec): JsonSchema {
  const status = String(spec.status ?? 200);
  const ok: JsonSchema = spec.response
    ? { description: 'OK', content: { 'application/json': { schema: plainSchema(spec.response) } } }
    : spec.produces
      ? { description: 'OK', content: Object.fromEntries([spec.produces].flat().map((t) => [t, {}])) }
      : { description: 'No content' };
  const error = { $ref: '#/components/responses/Error' };
  return { [status]: ok, '4XX': error, '5XX': error };
}

/** The whole document for `routes` (default: the admin route table). */
export function openApiDocument(routes: Readonly<Record<string, RouteSpec>> = ADMIN_ROUTES, version = '0.1.0'): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [key, spec] of Object.entries(routes)) {
    const { method, path } = splitRouteKey(key);
    const op: JsonSchema = {
      operationId: `${method.toLowerCase()}${openApiPath(path)
        .replace(/^\/api\/v1/, '')
        .replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      tags: [...spec.tags],
      ...(spec.summary ? { summary: spec.summary } : {}),
      ...(parameters(spec).length ? { parameters: parameters(spec) } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: plainSchema(spec.body) } } } } : {}),
      ...(spec.rawBody
        ? { requestBody: { required: true, content: { [spec.rawBody]: { schema: { type: 'string', contentMediaType: spec.rawBody } } } } }
        : {}),
      responses: responses(spec),
      security: spec.auth === 'open' ? [] : spec.auth === 'token' ? [{ bearer: [] }] : [{ bearer: [] }, { session: [] }],
    };
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Crashcart admin API',
      version,
      description: 'The admin plane of a Crashcart appliance, generated from contract/routes.ts. Bearer token: `crashcart token`.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        // Over HTTPS the cookie is `__Host-cc_session` (RFC 6265bis 4.1.3.2); the UI signs in with a one-time code.
        session: { type: 'apiKey', in: 'cookie', name: 'cc_session' },
      },
      responses: {
        Error: {
          description: 'A catalog error: the code, the message and the fix (docs/errors.md)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  statusCode: { type: 'integer' },
                  code: { type: 'string' },
                  error: { type: 'string' },
                  message: { type: 'string' },
                  fix: { type: 'string' },
                },
                required: ['statusCode', 'code', 'message'],
              },
            },
          },
        },
      },
    },
  };
}
