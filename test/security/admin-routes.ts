/** The admin plane's routes as a test walks them: concrete paths and the odd spellings an attacker tries. */
import type { FastifyInstance } from 'fastify';
import { adminRoutesOf } from '../../server/http/admin-plane.ts';

/** One registered route. */
export interface WalkedRoute {
  method: string;
  url: string;
  /** The route's path with every parameter filled in. */
  path: string;
  auth: 'open' | 'token' | 'closed';
  rawBody: boolean;
}

/** Parameter values that satisfy each route's schema (the microkernel file is an enum). */
const PARAM: Record<string, string> = { id: '1', name: 'x', file: 'vmlinuz', mac: '52:54:00:aa:bb:cc' };

/** Every route registered on an admin plane, HEAD twins included. */
export function walkRoutes(admin: FastifyInstance): WalkedRoute[] {
  return adminRoutesOf(admin).flatMap((r) =>
    (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({
      method,
      url: r.url,
      path: r.url.replace(/:(\w+)/g, (_m, p: string) => PARAM[p] ?? 'x'),
      auth: r.config?.auth ?? 'closed',
      rawBody: Boolean(r.config?.rawBody),
    })),
  );
}

/** Percent-encode the first letter of the path ("/api" -> "/%61pi"). */
export function encodeFirst(p: string): string {
  return p.replace(/^\/(\w)/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`);
}

/** Percent-encode the last letter of the last static segment ("/nodes" -> "/node%73"). */
export function encodeLast(p: string): string {
  return p.replace(/([a-z])([^a-z]*)$/, (_m, c: string, rest: string) => `%${c.charCodeAt(0).toString(16)}${rest}`);
}

/**
 * How a path may be spelled to slip past a check that looks at the raw URL:
 * the first four reach the same route (the router decodes them), the rest
 * must not match anything and fall to the (equally closed) 404.
 */
export function spellings(p: string, authority: string): { how: string; target: string; routes: boolean }[] {
  return [
    { how: 'as is', target: p, routes: true },
    { how: 'percent-encoded first letter', target: encodeFirst(p), routes: true },
    { how: 'percent-encoded last letter', target: encodeLast(p), routes: true },
    { how: 'absolute-form', target: `http://${authority}${p}`, routes: true },
    { how: 'doubled slash', target: `/${p}`, routes: false },
    { how: 'upper case', target: p.replace('/api/', '/API/'), routes: false },
    { how: 'trailing slash', target: `${p}/`, routes: false },
    { how: '; parameter', target: `${p};x=1`, routes: false },
    { how: 'dot segment', target: p.replace(/^\/(\w+)\//, '/$1/./'), routes: false },
  ];
}
