/**
 * Issue 10 §1, the critical finding: `GET /%61pi/v1/nodes` and absolute-form
 * targets reached the admin API without credentials. Every admin route is
 * attacked over a real socket, spelled every way; each attack passes only when
 * it is refused, and a positive control shows the same requests succeed with
 * the token (so these tests can fail).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify from 'fastify';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { buildRequest, rawRequest, type RawResponse } from '../support/raw-http.ts';
import { requireBodySchemas } from '../../server/http/admin-guard.ts';
import { adminRoutesOf } from '../../server/http/admin-plane.ts';
import { spellings, walkRoutes, type WalkedRoute } from './admin-routes.ts';

let t: InProcessAppliance;
let routes: WalkedRoute[];
let authority: string;
let token: string;
beforeAll(async () => {
  t = await startInProcess();
  routes = walkRoutes(t.admin);
  authority = new URL(t.adminUrl).host;
  token = await t.token();
});
afterAll(() => t.stop());

const send = (method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> =>
  rawRequest({ origin: t.adminUrl }, buildRequest(method, target, authority, headers, body));
const jsonBody = (r: WalkedRoute) => (['POST', 'PUT', 'PATCH'].includes(r.method) ? '{}' : undefined);
const jsonHeaders = (r: WalkedRoute): Record<string, string> => (jsonBody(r) ? { 'content-type': 'application/json' } : {});
/** The SSE stream never ends when it is allowed: the control skips it. */
const streams = (r: WalkedRoute) => r.url.endsWith('/stream');

describe('route table', () => {
  it('has the routes the UI and CLI use, and only health, sign-in and the UI files are open', () => {
    const urls = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const u of ['GET /api/v1/nodes', 'POST /api/v1/setup/stop', 'PATCH /api/v1/settings', 'POST /api/v1/session/revoke-all'])
      expect(urls).toContain(u);
    const open = routes.filter((r) => r.auth === 'open' && r.url.startsWith('/api/')).map((r) => `${r.method} ${r.url}`);
    expect(open.sort()).toEqual(['GET /api/v1/health', 'HEAD /api/v1/health', 'POST /api/v1/session']);
    for (const r of routes.filter((x) => x.auth === 'open' && !x.url.startsWith('/api/'))) expect(r.method).toMatch(/^(GET|HEAD)$/);
  });

  it('gives every POST/PUT/PATCH route a body schema (uploads declare their one raw type)', () => {
    const writes = adminRoutesOf(t.admin).filter((r) => [r.method].flat().some((m) => ['POST', 'PUT', 'PATCH'].includes(m)));
    expect(writes.length).toBeGreaterThan(20);
    expect(writes.filter((r) => !r.schema?.body && !r.config?.rawBody).map((r) => r.url)).toEqual([]);
    const raw = writes.filter((r) => r.config?.rawBody).map((r) => `${String(r.method)} ${r.url} ${r.config?.rawBody}`);
    expect(raw.sort()).toEqual([
      'PUT /api/v1/bundle application/octet-stream',
      'PUT /api/v1/images/:name/disk application/octet-stream',
      'PUT /api/v1/images/:name/files/:file application/octet-stream',
      'PUT /api/v1/images/:name/iso application/octet-stream',
      'PUT /api/v1/loaders/:file application/octet-stream',
      'PUT /api/v1/microkernel/staging/:file application/octet-stream',
    ]);
  });

  it('refuses to register a write route without a body schema', async () => {
    const app = Fastify();
    requireBodySchemas(app, []);
    expect(() => app.post('/api/v1/danger', async () => ({}))).toThrow(/POST \/api\/v1\/danger has no body schema/);
    expect(() => app.post('/api/v1/fine', { schema: { body: { type: 'object' } } }, async () => ({}))).not.toThrow();
    await app.close();
  });
});

describe('no credentials: every route, every spelling', () => {
  it('refuses every closed route with 401 for every spelling that reaches it, and routes the others nowhere', async () => {
    const leaks: string[] = [];
    for (const r of routes.filter((x) => x.auth !== 'open'))
      for (const s of spellings(r.path, authority)) {
        const res = await send(r.method, s.target, jsonHeaders(r), jsonBody(r));
        // A spelling the router decodes reaches the route and must be refused (401). Any other reaches no route
        // (404) or another closed route (`/nodes/` is `/nodes/:id` with an empty id: 401); never data.
        const code = r.method === 'HEAD' ? null : res.json().code;
        const refused = res.status === 401 && (code === null || code === 'CC_ERR_UNAUTHORIZED');
        const nowhere = res.status === 404 && (code === null || code === 'CC_ERR_NOT_FOUND');
        const ok = s.routes ? refused : refused || nowhere;
        if (!ok) leaks.push(`${r.method} ${s.target} (${s.how}) -> ${res.status} ${res.body.slice(0, 80)}`);
      }
    expect(leaks).toEqual([]);
  });

  it('answers unknown paths and methods 404, echoing nothing of the request', async () => {
    for (const [m, p] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/nope<script>'],
      ['OPTIONS', '/api/v1/nodes'],
      ['DELETE', '/api/v1/nodes'],
      ['GET', '/%61pi/v1/nodes/1/nope'],
    ] as const) {
      const res = await send(m, p);
      expect({ m, p, status: res.status, code: res.json().code }).toEqual({ m, p, status: 404, code: 'CC_ERR_NOT_FOUND' });
      expect(Object.keys(res.json()).sort()).toEqual(['code', 'error', 'fix', 'message', 'statusCode']);
      expect(res.body).not.toMatch(/nope|script|nodes/);
    }
    // A closed route that exists still says 401, not 404, so the 404 above is not the guard failing open.
    expect((await send('GET', '/api/docs/json')).status).toBe(401);
  });

  it('keeps health, sign-in and the UI shell open', async () => {
    expect((await send('GET', '/api/v1/health')).json()).toMatchObject({ ok: true });
    const ui = await send('GET', '/');
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    // The asterisk-form target (RFC 9112 §3.2.4) is routed like "/": the same public shell, nothing else.
    const star = await send('GET', '*');
    expect([star.status, star.body]).toEqual([200, ui.body]);
    // Sign-in is open, but a wrong code buys nothing.
    const s = await send('POST', '/api/v1/session', { 'content-type': 'application/json' }, JSON.stringify({ code: 'guessed-code' }));
    expect(s.status).toBe(401);
    expect(s.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a wrong or malformed bearer token the same way', async () => {
    for (const h of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${token}`, 'Bearer', `Bearer  ${token} extra`])
      expect((await send('GET', '/%61pi/v1/settings', { authorization: h })).status, h).toBe(401);
  });
});

describe('positive control: the same requests with the token', () => {
  it('reach the route for every spelling the router decodes, and nothing for the others', async () => {
    const wrong: string[] = [];
    for (const r of routes.filter((x) => x.method === 'GET' && x.auth !== 'open' && !streams(x)))
      for (const s of spellings(r.path, authority)) {
        const res = await send('GET', s.target, { authorization: `Bearer ${token}` });
        // Routed: 200, or the route's own 404 for an object (tag x, node 1) that does not exist.
        const routed = res.status === 200 || (res.status === 404 && !/no route for this method and path/.test(res.json().message));
        // Not routed: the router's 404, or a route whose parameter now fails its schema (`/nodes/1;x=1`): never data.
        const refused = res.status === 404 || res.status === 400;
        if (s.routes ? !routed : !refused) wrong.push(`${s.target} (${s.how}) -> ${res.status} ${res.body.slice(0, 60)}`);
      }
    expect(wrong).toEqual([]);
  });

  it('serves data and takes writes through an encoded path', async () => {
    const nodes = await send('GET', '/%61pi/v1/nodes', { authorization: `Bearer ${token}` });
    expect(nodes.json()).toEqual({ nodes: [], total: 0 });
    const tag = await send(
      'POST',
      `http://${authority}/api/v1/t%61gs`,
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      JSON.stringify({ name: 'control', rule: ['=', ['fact', 'x'], 'y'] }),
    );
    expect(tag.status).toBe(201);
  });
});
