/**
 * The admin plane: REST API + UI, on loopback by default. Every /api route but
 * health and session needs the bearer token or a session cookie. The OpenAPI
 * document at /api/docs is generated from the same schemas that validate.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyCookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import fs from 'node:fs';
import path from 'node:path';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CoreContext } from '../core/context.ts';
import { installErrorHandling, installValidation } from './error-handler.ts';
import { AdminAuth } from './admin-auth.ts';
import { nodeRoutes } from './routes/admin-nodes.ts';
import { catalogRoutes } from './routes/admin-catalog.ts';
import { eventRoutes } from './routes/admin-events.ts';
import { systemRoutes, type SystemControl } from './routes/admin-system.ts';
import { diskImageRoutes } from './routes/admin-disk-images.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';
import { ccError } from '../errors/cc-error.ts';

/** Session cookie name. */
export const SESSION_COOKIE = 'cc_session';
/** Version reported by /api/v1/health. */
export const VERSION = '0.1.0';

const OPEN_ROUTES = new Set(['/api/v1/health', '/api/v1/session', '/api/docs', '/api/docs/json']);

/** Build the admin plane (not listening yet). */
export async function buildAdminPlane(ctx: CoreContext, auth: AdminAuth, sys: SystemControl): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandling(app, ctx.log);
  installValidation(app);
  // Security headers for the UI: same-origin everything, no framing, no sniffing.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: false,
  });
  await app.register(fastifyCookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Crashcart admin API',
        version: VERSION,
        description: 'Admin plane of the Crashcart appliance. Bearer token: `crashcart token`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addHook('onRequest', async (req) => {
    const url = req.url.split('?')[0]!;
    if (!url.startsWith('/api/') || OPEN_ROUTES.has(url)) return;
    const h = req.headers.authorization;
    if (h?.startsWith('Bearer ') && auth.checkToken(h.slice(7).trim())) return;
    const s = req.cookies[SESSION_COOKIE];
    if (s && auth.checkSession(s)) return;
    throw ccError('CC_ERR_UNAUTHORIZED', h ? 'the token is wrong' : 'no credentials sent');
  });

  app.get('/api/v1/health', { schema: { tags: ['system'], security: [] } }, async () => ({ ok: true, version: VERSION }));
  app.post(
    '/api/v1/session',
    {
      schema: {
        tags: ['system'],
        security: [],
        body: Type.Object({ code: Type.String({ minLength: 8, maxLength: 256 }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const s = auth.exchange((req.body as { code: string }).code);
      if (!s)
        throw ccError(
          'CC_ERR_UNAUTHORIZED',
          'the login code is unknown, used or expired; start the appliance again or use `crashcart token`',
        );
      void reply.setCookie(SESSION_COOKIE, s, { httpOnly: true, sameSite: 'strict', path: '/', secure: false });
      return { ok: true };
    },
  );
  nodeRoutes(app, ctx);
  catalogRoutes(app, ctx);
  eventRoutes(app, ctx);
  systemRoutes(app, ctx, sys);
  diskImageRoutes(app, ctx);
  app.get('/api/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());

  const ui = path.join(REPO_ROOT, 'renderer', 'dist');
  if (fs.existsSync(path.join(ui, 'index.html'))) {
    await app.register(fastifyStatic, { root: ui, prefix: '/', index: ['index.html'], wildcard: false });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Crashcart</title><h1>Crashcart</h1><p>The UI is not built. Fix: run <code>npm run build:ui</code>, then reload. The API is at <a href="/api/docs">/api/docs</a>.</p>',
        ),
    );
  }
  return app;
}
