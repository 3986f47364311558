/**
 * Issue 10 §1 from a web page the operator happens to visit: a cross-site
 * text/plain POST that stops DHCP/TFTP, forged writes riding the session
 * cookie, and DNS rebinding (the attacker's name resolving to the appliance).
 * Each attack passes only when refused and when nothing changed; each has a
 * positive control that the same request from the UI's own origin works.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { buildRequest, rawRequest, type RawResponse } from '../support/raw-http.ts';
import { walkRoutes } from './admin-routes.ts';

let t: InProcessAppliance;
let authority: string;
let token: string;
let cookie: string;
const EVIL = 'http://evil.example';

beforeAll(async () => {
  t = await startInProcess();
  authority = new URL(t.adminUrl).host;
  token = await t.token();
  // Sign in like the UI does: the one-time code from the printed link buys an HttpOnly, SameSite=Strict cookie.
  const code = new URL(t.app.loginUrl).hash.replace('#login=', '');
  const r = await send('POST', '/api/v1/session', { 'content-type': 'application/json', origin: t.adminUrl }, JSON.stringify({ code }));
  expect(r.status).toBe(200);
  expect(r.headers['set-cookie']).toMatch(/^cc_session=[\w-]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Strict$/);
  cookie = r.headers['set-cookie']!.split(';')[0]!;
});
afterAll(() => t.stop());

function send(method: string, target: string, headers: Record<string, string> = {}, body?: string, host = authority): Promise<RawResponse> {
  return rawRequest({ origin: t.adminUrl }, buildRequest(method, target, host, headers, body));
}
const running = async () =>
  (await t.app.admin.inject({ method: 'GET', url: '/api/v1/status', headers: { authorization: `Bearer ${token}` } }))
    .json<{ services: { name: string; state: string }[] }>()
    .services.map((s) => `${s.name}:${s.state}`);

describe('cross-site requests riding the session cookie', () => {
  it('refuses the text/plain POST to /%61pi/v1/setup/stop from another site, and nothing stops', async () => {
    const before = await running();
    const r = await send('POST', '/%61pi/v1/setup/stop', { cookie, origin: EVIL, 'content-type': 'text/plain' }, '{}');
    expect([r.status, r.json().code]).toEqual([403, 'CC_ERR_CROSS_ORIGIN']);
    expect(r.json().fix).toContain('Bearer');
    expect(await running()).toEqual(before);
  });

  it('refuses forged JSON writes: foreign, null or missing Origin, cross-site fetch metadata', async () => {
    const forged: Record<string, string>[] = [
      { origin: EVIL },
      { origin: 'null' },
      { origin: `https://${authority}` }, // same host, other scheme: another origin
      { origin: `http://${authority}.evil.example` },
      {},
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: EVIL, 'sec-fetch-site': 'same-origin' }, // Origin wins over a claim
    ];
    for (const h of forged) {
      const r = await send(
        'POST',
        '/api/v1/tags',
        { cookie, 'content-type': 'application/json', ...h },
        JSON.stringify({ name: 'forged', rule: ['=', 1, 1] }),
      );
      expect([JSON.stringify(h), r.status, r.json().code]).toEqual([JSON.stringify(h), 403, 'CC_ERR_CROSS_ORIGIN']);
    }
    for (const [m, p] of [
      ['PATCH', '/api/v1/settings'],
      ['DELETE', '/api/v1/session'],
      ['POST', '/api/v1/session/revoke-all'],
    ] as const) {
      const r = await send(m, p, { cookie, origin: EVIL, 'content-type': 'application/json' }, m === 'DELETE' ? undefined : '{}');
      expect([m, p, r.status]).toEqual([m, p, 403]);
    }
    const tags = await t.app.admin.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: `Bearer ${token}` } });
    expect(tags.json().tags).toEqual([]);
    // The cookie still works: nothing above signed the operator out.
    expect((await send('GET', '/api/v1/settings', { cookie })).status).toBe(200);
  });

  it('positive control: the UI origin (or Sec-Fetch-Site: same-origin) writes with the cookie', async () => {
    const a = await send(
      'POST',
      '/api/v1/tags',
      { cookie, origin: t.adminUrl, 'content-type': 'application/json' },
      JSON.stringify({ name: 'ui', rule: ['=', 1, 1] }),
    );
    expect(a.status).toBe(201);
    const b = await send('DELETE', '/api/v1/tags/ui', { cookie, 'sec-fetch-site': 'same-origin' });
    expect(b.status).toBe(204);
    // localhost is the same machine but another origin than 127.0.0.1: the browser's Origin must match its own Host.
    const port = new URL(t.adminUrl).port;
    const c = await send(
      'PATCH',
      '/api/v1/settings',
      { cookie, origin: `http://localhost:${port}`, 'content-type': 'application/json' },
      '{}',
      `localhost:${port}`,
    );
    expect(c.status).toBe(200);
  });

  it('lets bearer-token clients (CLI, Electron) write without any Origin', async () => {
    const r = await send('PATCH', '/api/v1/settings', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{}');
    expect(r.status).toBe(200);
  });
});

describe('bodies a cross-site page can send', () => {
  it('refuses text/plain, form and multipart bodies on every write route with 415 before any handler runs, even with the token', async () => {
    const writes = walkRoutes(t.admin).filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    expect(writes.map((r) => r.url)).toContain('/api/v1/session/revoke-all');
    const wrong: string[] = [];
    for (const r of writes)
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain;charset=UTF-8']) {
        const res = await send(r.method, r.path, { authorization: `Bearer ${token}`, 'content-type': ct }, '{}');
        if (res.status !== 415 || res.json().code !== 'CC_ERR_UNSUPPORTED_MEDIA')
          wrong.push(`${r.method} ${r.path} ${ct} -> ${res.status}`);
      }
    expect(wrong).toEqual([]);
    // Handlers did not run: the token was not rotated (revoke-all), no image was written.
    expect(await t.token()).toBe(token);
    const imgs = await t.app.admin.inject({ method: 'GET', url: '/api/v1/images', headers: { authorization: `Bearer ${token}` } });
    expect(imgs.json().images).toEqual([]);
  });

  it('refuses a body with no Content-Type, and an empty POST to setup/stop', async () => {
    const a = await send('POST', '/api/v1/setup/stop', { authorization: `Bearer ${token}` }, '{}');
    expect(a.status).toBe(415);
    const b = await send('POST', '/api/v1/setup/stop', { authorization: `Bearer ${token}` });
    expect([b.status, b.json().code]).toEqual([400, 'CC_ERR_BAD_REQUEST']);
  });
});

describe('DNS rebinding and foreign Host names', () => {
  const port = () => new URL(t.adminUrl).port;
  it('refuses a Host that is not this machine with 421, before credentials are even looked at', async () => {
    for (const host of [
      `evil.example:${port()}`,
      'evil.example',
      `127.0.0.1.evil.example:${port()}`,
      `localhost.evil.example:${port()}`,
      `10.1.2.3:${port()}`,
    ]) {
      for (const h of [{ cookie }, { authorization: `Bearer ${token}` }, {}] as Record<string, string>[]) {
        const r = await send('GET', '/api/v1/settings', h, undefined, host);
        expect([host, r.status, r.json().code]).toEqual([host, 421, 'CC_ERR_HOST_NOT_ALLOWED']);
      }
      expect((await send('GET', '/api/v1/health', {}, undefined, host)).status).toBe(421);
      expect((await send('GET', '/', {}, undefined, host)).status).toBe(421);
    }
  });

  it('checks the authority of an absolute-form target as well as Host, and refuses a request with no Host', async () => {
    const r = await send('GET', `http://evil.example/api/v1/settings`, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(421);
    const u = await rawRequest({ origin: t.adminUrl }, 'GET /api/v1/health HTTP/1.0\r\n\r\n');
    expect(u.status).toBe(421);
  });

  it('positive control: loopback names and addresses answer', async () => {
    for (const host of [authority, `localhost:${port()}`, `127.0.0.1:${port()}`, `127.1.2.3:${port()}`, `[::1]:${port()}`, 'localhost'])
      expect([host, (await send('GET', '/api/v1/settings', { authorization: `Bearer ${token}` }, undefined, host)).status]).toEqual([
        host,
        200,
      ]);
  });
});

describe('--admin-hostname', () => {
  it('adds a DNS name to the allowlist and nothing else', async () => {
    const u = await startInProcess(['--admin-hostname', 'crashcart.lab']);
    try {
      const tok = await u.token();
      const port = new URL(u.adminUrl).port;
      const get = (host: string) =>
        rawRequest({ origin: u.adminUrl }, buildRequest('GET', '/api/v1/settings', host, { authorization: `Bearer ${tok}` }));
      expect((await get(`crashcart.lab:${port}`)).status).toBe(200);
      expect((await get(`CRASHCART.LAB.:${port}`)).status).toBe(200);
      expect((await get(`crashcart.lab.evil.example:${port}`)).status).toBe(421);
      expect((await get(`x.crashcart.lab:${port}`)).status).toBe(421);
    } finally {
      await u.stop();
    }
  });
});
