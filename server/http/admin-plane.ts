/**
 * The admin plane: REST API + UI, on loopback by default (HTTPS only beyond
 * it). Every route needs the bearer token or a session cookie unless it says
 * `config: { auth: 'open' }` (admin-guard.ts). The OpenAPI document at
 * /api/docs is generated from the same schemas that validate.
 */
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyCookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import fs from 'node:fs';
import path from 'node:path';
import type { CoreContext } from '../core/context.ts';
import { installErrorHandling, installValidation } from './error-handler.ts';
import type { AdminAuth } from './admin-auth.ts';
import type { AdminTls } from './admin-tls.ts';
import { installGuard, localAddressCache, requireBodySchemas } from './admin-guard.ts';
import { nodeRoutes } from './routes/admin-nodes.ts';
import { catalogRoutes } from './routes/admin-catalog.ts';
import { eventRoutes } from './routes/admin-events.ts';
import { exportRoutes } from './routes/admin-export.ts';
import { openApiRoutes } from './routes/admin-openapi.ts';
import { hookRoutes } from './routes/admin-hooks.ts';
import { systemRoutes, type SystemControl } from './routes/admin-system.ts';
import { sessionRoutes } from './routes/admin-session.ts';
import { uploadRoutes } from './routes/admin-uploads.ts';
import { prepareRoutes } from './routes/admin-prepare.ts';
import { bundleRoutes } from './routes/admin-bundle.ts';
import { reservationRoutes } from './routes/admin-reservations.ts';
import { bmcRoutes } from './routes/admin-bmc.ts';
import { nodeEditRoutes } from './routes/admin-node-edit.ts';
import { manifestRoutes } from './routes/admin-manifest.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';
import { VERSION } from '../system/version.ts';
import { imageRoutes } from './routes/admin-images.ts';

/** Session cookie name over plain HTTP (loopback). */
export const SESSION_COOKIE = 'cc_session';
/** Over HTTPS the `__Host-` prefix makes browsers insist on Secure, Path=/ and no Domain (RFC 6265bis §4.1.3.2). */
export const SESSION_COOKIE_TLS = '__Host-cc_session';
/** Version reported by /api/v1/health (server/system/version.ts). */
export { VERSION };

/**
 * Router settings, chosen on purpose (auth no longer depends on them, but one
 * spelling per route keeps logs and tests unambiguous): case-sensitive, no
 * trailing-slash or duplicate-slash folding, and `;` is part of the path
 * (no matrix parameters). These are Fastify 5's defaults, pinned here.
 */
const ROUTER = { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, useSemicolonDelimiter: false };

/** What the admin plane needs beyond the core. */
export interface AdminPlaneOptions {
  auth: AdminAuth;
  sys: SystemControl;
  tls: AdminTls | null;
  /** The UI URL that signs a browser in with a login code. */
  loginUrl(code: string): string;
  /** This machine's addresses (for the Host allowlist when listening on a wildcard). */
  localAddresses?: () => ReadonlySet<string>;
}

const routeTables = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route registered on an admin plane (for the test that walks them). */
export function adminRoutesOf(app: FastifyInstance): readonly RouteOptions[] {
  return routeTables.get(app) ?? [];
}

/** Build the admin plane (not listening yet). */
export async function buildAdminPlane(ctx: CoreContext, o: AdminPlaneOptions): Promise<FastifyInstance> {
  const opts = { logger: false, bodyLimit: 4 * 1024 * 1024, routerOptions: ROUTER };
  const app = (o.tls
    ? Fastify({ ...opts, https: { cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' } })
    : Fastify(opts)) as unknown as FastifyInstance;
  const routes: RouteOptions[] = [];
  routeTables.set(app, routes);
  requireBodySchemas(app, routes);
  installErrorHandling(app, ctx.log, ctx.config.dataDir);
  installValidation(app);
  // No route takes text/plain: a cross-site form or no-cors fetch can only send text/plain,
  // urlencoded or multipart, and none of them is parsed here (415 before any handler).
  app.removeContentTypeParser('text/plain');
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
    hsts: o.tls ? { maxAge: 0 } : false,
  });
  await app.register(fastifyCookie);
  const cookieName = o.tls ? SESSION_COOKIE_TLS : SESSION_COOKIE;
  installGuard(app, {
    auth: o.auth,
    cookieName,
    scheme: o.tls ? 'https' : 'http',
    hosts: {
      listenHost: ctx.config.admin.host,
      hostnames: ctx.config.admin.hostnames,
      localAddresses: o.localAddresses ?? localAddressCache(),
    },
  });
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

  sessionRoutes(app, ctx, {
    auth: o.auth,
    cookieName,
    secure: o.tls !== null,
    sessionMaxS: ctx.config.admin.sessionMaxS,
    loginUrl: o.loginUrl,
  });
  nodeRoutes(app, ctx);
  catalogRoutes(app, ctx);
  eventRoutes(app, ctx);
  exportRoutes(app, ctx);
  openApiRoutes(app);
  await hookRoutes(app, ctx);
  systemRoutes(app, ctx, o.sys);
  imageRoutes(app, ctx);
  await app.register(async (scope) => {
    uploadRoutes(scope, ctx);
    prepareRoutes(scope, ctx);
    bundleRoutes(scope, ctx);
  });
  reservationRoutes(app, ctx);
  bmcRoutes(app, ctx);
  nodeEditRoutes(app, ctx);
  manifestRoutes(app, ctx);
  app.get('/api/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api/docs', { schema: { hide: true } }, async () => app.swagger());

  // The UI's static files are public (they hold no data); everything they fetch is not.
  await app.register(async (ui) => {
    ui.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'open' };
    });
    const dist = path.join(REPO_ROOT, 'renderer', 'dist');
    if (fs.existsSync(path.join(dist, 'index.html'))) {
      await ui.register(fastifyStatic, { root: dist, prefix: '/', index: ['index.html'], wildcard: false });
    } else {
      ui.get('/', async (_req, reply) =>
        reply
          .type('text/html')
          .send(
            '<!doctype html><title>Crashcart</title><h1>Crashcart</h1><p>The UI is not built. Fix: run <code>npm run build:ui</code>, then reload. The API is at <a href="/api/docs">/api/docs</a>.</p>',
          ),
      );
    }
  });
  return app;
}
