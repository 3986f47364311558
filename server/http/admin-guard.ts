/**
 * Who may reach an admin route, decided on the MATCHED route (issue 10 §1):
 * the router has already decoded `/%61pi/v1/nodes` and stripped an
 * absolute-form target, so spelling a path differently can never skip a check.
 * Routes are closed unless they say `config: { auth: 'open' }`. A path no
 * route matches answers a plain 404 that echoes nothing (issue 10: "unknown
 * paths stay 404 without leaking anything"); the route list itself is public
 * (docs/api.md), so 404 vs 401 tells a scanner nothing it could not read.
 */
import os from 'node:os';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ccError } from '../errors/cc-error.ts';
import type { AdminAuth } from './admin-auth.ts';
import { hostAllowed, hostOf, requestAuthorities, sameOrigin, type HostPolicy } from './request-origin.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `open`: no credential (health, sign-in, the UI's static files);
     * `token`: the bearer token only (CLI, Electron); unset: token or session cookie.
     */
    auth?: 'open' | 'token';
    /** A route that takes a raw body of this one media type instead of a JSON schema. */
    rawBody?: 'application/octet-stream';
  }
}

/** Methods that change state (RFC 9110 §9.2.1: everything but the safe ones). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Methods whose body a route must describe. */
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** What the guard needs. */
export interface GuardOptions {
  auth: AdminAuth;
  cookieName: string;
  scheme: 'http' | 'https';
  hosts: HostPolicy;
}

/** Addresses of this machine, re-read at most every 10 s (an office NIC may renumber). */
export function localAddressCache(read = os.networkInterfaces): () => ReadonlySet<string> {
  let at = 0;
  let set = new Set<string>();
  return () => {
    if (Date.now() - at > 10_000) {
      set = new Set(
        Object.values(read())
          .flat()
          .filter((a) => a !== undefined)
          .map((a) => a.address.toLowerCase()),
      );
      at = Date.now();
    }
    return set;
  };
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  const m = h ? /^Bearer[ ]+(\S+)\s*$/i.exec(h) : null;
  return m ? m[1]! : null;
}

/**
 * Refuse at registration any POST/PUT/PATCH route without a body schema, so no
 * route can ever be reached by a cross-site text/plain or form POST.
 */
export function requireBodySchemas(app: FastifyInstance, seen: RouteOptions[]): void {
  app.addHook('onRoute', (r) => {
    seen.push(r);
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    if (methods.some((m) => WITH_BODY.has(m)) && !r.schema?.body && !r.config?.rawBody)
      throw new Error(
        `admin route ${methods.join(',')} ${r.url} has no body schema (add schema.body, or config.rawBody for a file upload)`,
      );
  });
}

/** Install the Host, credential and same-origin checks as the first onRequest hook. */
export function installGuard(app: FastifyInstance, o: GuardOptions): void {
  app.addHook('onRequest', async (req) => {
    // DNS rebinding: a page on evil.example whose name now resolves to us still says "Host: evil.example".
    for (const a of requestAuthorities(req.raw.url ?? '', req.headers.host))
      if (!hostAllowed(hostOf(a), o.hosts))
        throw ccError('CC_ERR_HOST_NOT_ALLOWED', `"${String(a ?? '(none)').slice(0, 80)}" is not a name of this appliance`);

    if (req.routeOptions.url === undefined) return; // no route matched: the not-found handler answers 404
    const mode = req.routeOptions.config?.auth;
    if (mode === 'open') return;
    const t = bearer(req);
    if (t !== null) {
      if (o.auth.checkToken(t)) return; // CLI and Electron: no cookie, so no cross-site risk and no Origin needed
      throw ccError('CC_ERR_UNAUTHORIZED', 'the token is wrong (it changes when someone signs out everywhere)');
    }
    if (mode === 'token') throw ccError('CC_ERR_UNAUTHORIZED', 'this call needs the bearer token, a browser session is not enough');
    const s = req.cookies[o.cookieName];
    if (!s) throw ccError('CC_ERR_UNAUTHORIZED', 'no credentials sent');
    const v = o.auth.checkSession(s);
    if (!v.ok) throw ccError('CC_ERR_SESSION_EXPIRED', v.refused === 'expired' ? 'the session timed out' : 'the session is unknown');
    if (!SAFE.has(req.method) && !sameOrigin(req.headers.origin, header(req, 'sec-fetch-site'), req.headers.host, o.scheme))
      throw ccError('CC_ERR_CROSS_ORIGIN', `${req.method} from ${req.headers.origin ?? 'a page that sent no Origin'}`);
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
