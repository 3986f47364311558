// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loginCodeFrom, signIn } from './login.ts';
import { configureClient } from './client.ts';

type Call = { url: string; method: string; body: unknown; auth: string | null };

function fakeFetch(routes: Record<string, { status: number; body: unknown }>): { calls: Call[] } {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({
      url,
      method: init.method ?? 'GET',
      body: init.body ? JSON.parse(String(init.body)) : null,
      auth: headers.Authorization ?? null,
    });
    const r = routes[`${init.method ?? 'GET'} ${url}`] ?? { status: 404, body: { code: 'CC_ERR_NOT_FOUND', message: 'no', fix: '' } };
    return new Response(JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  });
  return { calls };
}

afterEach(() => {
  vi.unstubAllGlobals();
  configureClient({ baseUrl: '', token: null });
  sessionStorage.clear();
});

describe('sign-in', () => {
  it('reads the one-time code from the fragment', () => {
    expect(loginCodeFrom('#login=abc%2Fdef')).toBe('abc/def');
    expect(loginCodeFrom('#/nodes')).toBeNull();
  });

  it('exchanges the code for a session and removes it from the address bar', async () => {
    const { calls } = fakeFetch({
      'GET /api/v1/health': { status: 200, body: { ok: true, version: '0.1.0' } },
      'POST /api/v1/session': { status: 200, body: { ok: true } },
      'GET /api/v1/status': { status: 200, body: { services: [] } },
    });
    window.history.replaceState(null, '', '/#login=one-time-123');
    const r = await signIn(window);
    expect(r).toEqual({ ok: true, version: '0.1.0' });
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ code: 'one-time-123' });
    expect(window.location.hash).toBe('#/nodes');
  });

  it('uses the Electron bridge token as a Bearer header', async () => {
    const { calls } = fakeFetch({
      'GET http://127.0.0.1:9/api/v1/health': { status: 200, body: { ok: true, version: 'x' } },
      'GET http://127.0.0.1:9/api/v1/status': { status: 200, body: { services: [] } },
    });
    const bridge = { getConnection: async () => ({ baseUrl: 'http://127.0.0.1:9/', token: 'tok' }) };
    const win = Object.assign(Object.create(window) as Window, { crashcart: bridge, location: window.location, history: window.history });
    const r = await signIn(win);
    expect(r.ok).toBe(true);
    expect(calls.at(-1)).toMatchObject({ url: 'http://127.0.0.1:9/api/v1/status', auth: 'Bearer tok' });
  });

  it('tells a wrong token from an appliance that is down', async () => {
    fakeFetch({
      'GET /api/v1/health': { status: 200, body: { ok: true, version: 'x' } },
      'GET /api/v1/status': {
        status: 401,
        body: {
          statusCode: 401,
          code: 'CC_ERR_UNAUTHORIZED',
          error: 'Unauthorized',
          message: 'A valid admin token is required',
          fix: 'Send a token',
        },
      },
    });
    const bad = await signIn(window);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect([bad.error.status, bad.error.code, bad.error.fix]).toEqual([401, 'CC_ERR_UNAUTHORIZED', 'Send a token']);
    vi.stubGlobal('fetch', async () => Promise.reject(new TypeError('Failed to fetch')));
    const down = await signIn(window);
    expect(!down.ok && down.error.code).toBe('CC_UI_UNREACHABLE');
  });
});
