/**
 * The runtime half of a typed admin call: turn a route key of contract/routes.ts
 * and its input into the method, the path (parameters filled in, query
 * appended) and the JSON body. TypeBox-free, so the renderer can bundle it.
 */
import type { AdminRouteKey } from './routes.ts';

/** What a call carries, untyped (the typed wrappers check it against the route table). */
export interface RouteRequestInput {
  params?: Readonly<Record<string, string | number>>;
  query?: Readonly<Record<string, string | number | boolean | null | undefined>>;
  body?: unknown;
}

/** One request ready to send. */
export interface RouteRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/nodes/7/events?limit=500`. */
  path: string;
  /** JSON body, or undefined for none. */
  body: unknown;
}

/** Split `'GET /api/v1/nodes/:id'` into its method and path template. */
export function splitRouteKey(key: AdminRouteKey | string): { method: string; path: string } {
  const i = key.indexOf(' ');
  if (i <= 0) throw new Error(`not a route key: "${key}"`);
  return { method: key.slice(0, i), path: key.slice(i + 1) };
}

/**
 * Fill a path template: each `:name` becomes the percent-encoded parameter, so a
 * name with `/` or `?` in it can never reach another route. Query values that
 * are undefined or null are left out.
 */
export function routeRequest(key: AdminRouteKey, input: RouteRequestInput = {}): RouteRequest {
  const { method, path } = splitRouteKey(key);
  const filled = path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = input.params?.[name];
    if (v === undefined) throw new Error(`${key}: parameter "${name}" missing`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined && v !== null) q.set(k, String(v));
  const qs = q.toString();
  return { method, path: qs ? `${filled}?${qs}` : filled, body: input.body };
}
