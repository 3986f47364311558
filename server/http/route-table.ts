/**
 * Registers admin routes from their entries in contract/routes.ts: method,
 * path, auth mode, and the params/query/body/answer schemas all come from the
 * table, so the route that validates a request and serialises its answer is
 * the route the clients were typed from. A handler parses nothing itself and
 * must return the answer type its entry names (checked by the compiler).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteShorthandOptions } from 'fastify';
import {
  ADMIN_ROUTES,
  type AdminRouteKey,
  type RouteAnswer,
  type RouteBody,
  type RouteParams,
  type RouteQuery,
  type RouteSpec,
} from '../../contract/routes.ts';
import { splitRouteKey } from '../../contract/route-request.ts';

/** The request a handler of route K sees: params, query and body already validated against the table. */
export type RouteRequest<K extends AdminRouteKey> = FastifyRequest<{
  Params: RouteParams<K>;
  Querystring: RouteQuery<K>;
  Body: RouteBody<K>;
}>;

/**
 * A handler of route K. It returns the route's answer; routes without a JSON
 * answer (204, streams, downloads) may answer through `reply` and return it.
 */
export type RouteHandler<K extends AdminRouteKey> = (
  req: RouteRequest<K>,
  reply: FastifyReply,
) => Promise<RouteAnswer<K> extends void ? void | FastifyReply : RouteAnswer<K>>;

/** What a route may add that is not part of the contract (limits, hooks). */
export type RouteExtras = Pick<RouteShorthandOptions, 'bodyLimit' | 'onRequest'>;

/** The Fastify schema of a table entry (OpenAPI groups, validation, answer serialisation). */
export function fastifySchema(spec: RouteSpec): Record<string, unknown> {
  return {
    tags: [...spec.tags],
    ...(spec.summary ? { summary: spec.summary } : {}),
    ...(spec.auth === 'open' ? { security: [] } : {}),
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.query ? { querystring: spec.query } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    ...(spec.response ? { response: { [spec.status ?? 200]: spec.response } } : {}),
  };
}

/** Register route K on the admin plane from its table entry. */
export function addRoute<K extends AdminRouteKey>(app: FastifyInstance, key: K, handler: RouteHandler<K>, extras: RouteExtras = {}): void {
  const spec: RouteSpec = ADMIN_ROUTES[key];
  const { method, path } = splitRouteKey(key);
  const status = spec.status;
  const run = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const out = await handler(req as RouteRequest<K>, reply);
    // The handler answered itself (a stream it hijacked, a download with its own headers).
    if (out === reply || reply.sent) return reply;
    if (status === 204) return reply.status(204).send();
    if (status) void reply.status(status);
    return out;
  };
  app.route({
    method,
    url: path,
    config: { ...(spec.auth ? { auth: spec.auth } : {}), ...(spec.rawBody ? { rawBody: spec.rawBody } : {}) },
    schema: fastifySchema(spec),
    ...extras,
    handler: run as RouteHandlerMethod,
  });
}
