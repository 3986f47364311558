/**
 * Login codes and sessions (issue 10 §1): a code works once and for ten
 * minutes; a session ends after 8 h idle and 24 h in all; one browser signs
 * out alone; "sign out everywhere" ends every session and code and rotates the
 * token file. Time is the appliance's injected clock, never a sleep.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { buildRequest, rawRequest, type RawResponse } from '../support/raw-http.ts';

const clock = { t: Date.parse('2026-03-01T08:00:00Z') };
const advance = (ms: number) => (clock.t += ms);
const MIN = 60_000;
const HOUR = 60 * MIN;

let t: InProcessAppliance;
let authority: string;
beforeAll(async () => {
  t = await startInProcess([], { now: () => new Date(clock.t) });
  authority = new URL(t.adminUrl).host;
});
afterAll(() => t.stop());

function send(method: string, target: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawResponse> {
  const h = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
  return rawRequest(
    { origin: t.adminUrl },
    buildRequest(method, target, authority, h, body === undefined ? undefined : JSON.stringify(body)),
  );
}
const bearer = async () => ({ authorization: `Bearer ${await t.token()}` });
const ui = () => ({ origin: t.adminUrl });
async function newCode(): Promise<string> {
  const r = await send('POST', '/api/v1/session/login-code', await bearer(), {});
  expect(r.status).toBe(200);
  expect(r.json().url).toBe(`${t.adminUrl}/#login=${r.json().code}`);
  return r.json().code as string;
}
async function signIn(code: string): Promise<RawResponse & { cookie: string }> {
  const r = await send('POST', '/api/v1/session', ui(), { code });
  return Object.assign(r, { cookie: r.headers['set-cookie']?.split(';')[0] ?? '' });
}
const status = async (cookie: string) => (await send('GET', '/api/v1/status', { cookie })).status;

describe('login codes', () => {
  it('the printed code expires after 10 minutes', async () => {
    const printed = new URL(t.app.loginUrl).hash.replace('#login=', '');
    advance(10 * MIN + 1000);
    const r = await signIn(printed);
    expect([r.status, r.json().code, r.cookie]).toEqual([401, 'CC_ERR_LOGIN_CODE', '']);
    expect(r.json().fix).toContain('crashcart login');
  });

  it('a fresh code works once, within 10 minutes', async () => {
    const code = await newCode();
    advance(9 * MIN);
    const first = await signIn(code);
    expect(first.status).toBe(200);
    expect(await status(first.cookie)).toBe(200);
    const again = await signIn(code);
    expect([again.status, again.json().code]).toEqual([401, 'CC_ERR_LOGIN_CODE']);
  });

  it('only the token holder mints codes (a session cannot)', async () => {
    const s = await signIn(await newCode());
    const r = await send('POST', '/api/v1/session/login-code', { cookie: s.cookie, ...ui() }, {});
    expect(r.status).toBe(401);
  });
});

describe('sessions', () => {
  it('end after 8 hours without a request, not before', async () => {
    const s = await signIn(await newCode());
    advance(8 * HOUR - MIN);
    expect(await status(s.cookie)).toBe(200); // activity resets the idle clock
    advance(8 * HOUR - MIN);
    expect(await status(s.cookie)).toBe(200);
    advance(8 * HOUR + 1000);
    const r = await send('GET', '/api/v1/status', { cookie: s.cookie });
    expect([r.status, r.json().code]).toEqual([401, 'CC_ERR_SESSION_EXPIRED']);
    expect(await status(s.cookie)).toBe(401); // and stays dead
  });

  it('end 24 hours after sign-in however busy', async () => {
    const s = await signIn(await newCode());
    for (let h = 0; h < 23; h++) {
      advance(HOUR);
      expect(await status(s.cookie)).toBe(200);
    }
    advance(HOUR + 1000);
    expect(await status(s.cookie)).toBe(401);
  });

  it('DELETE /api/v1/session signs this browser out and no other', async () => {
    const a = await signIn(await newCode());
    const b = await signIn(await newCode());
    const r = await send('DELETE', '/api/v1/session', { cookie: a.cookie, ...ui() });
    expect(r.status).toBe(204);
    expect(r.headers['set-cookie']).toMatch(/^cc_session=;/);
    expect(await status(a.cookie)).toBe(401);
    expect(await status(b.cookie)).toBe(200);
  });
});

describe('sign out everywhere', () => {
  it('ends every session and code, and rotates the token file durably', async () => {
    const file = path.join(t.dataDir, 'admin-token');
    const oldToken = await t.token();
    const oldInode = (await fs.stat(file)).ino;
    const a = await signIn(await newCode());
    const b = await signIn(await newCode());
    const pending = await newCode();
    const r = await send('POST', '/api/v1/session/revoke-all', { cookie: a.cookie, ...ui() }, {});
    expect(r.status).toBe(200);
    expect(r.json().sessions_ended).toBeGreaterThanOrEqual(2);
    const newToken = await t.token();
    expect(newToken).not.toBe(oldToken);
    expect(newToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const st = await fs.stat(file);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.ino).not.toBe(oldInode); // replaced by rename, never rewritten in place
    expect((await fs.readdir(t.dataDir)).filter((f) => f.includes('admin-token') && f !== 'admin-token')).toEqual([]);
    expect(await status(a.cookie)).toBe(401);
    expect(await status(b.cookie)).toBe(401);
    expect((await signIn(pending)).status).toBe(401);
    expect((await send('GET', '/api/v1/status', { authorization: `Bearer ${oldToken}` })).status).toBe(401);
    // Positive control: the new token (what `crashcart token` now prints) works.
    expect((await send('GET', '/api/v1/status', { authorization: `Bearer ${newToken}` })).status).toBe(200);
    const ev = await send('GET', '/api/v1/events?type=admin.signed_out_everywhere', await bearer());
    expect(ev.json().events).toHaveLength(1);
  });
});

describe('session flags', () => {
  it('--session-idle and --session-lifetime replace the defaults', async () => {
    const c = { t: clock.t };
    const u = await startInProcess(['--session-idle', '30m', '--session-lifetime', '1h'], { now: () => new Date(c.t) });
    try {
      const h = { authorization: `Bearer ${await u.token()}` };
      const go = (m: string, p: string, headers: Record<string, string>, body?: unknown) =>
        rawRequest(
          { origin: u.adminUrl },
          buildRequest(
            m,
            p,
            new URL(u.adminUrl).host,
            body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
            body === undefined ? undefined : JSON.stringify(body),
          ),
        );
      const code = (await go('POST', '/api/v1/session/login-code', h, {})).json().code as string;
      const cookie = (await go('POST', '/api/v1/session', { origin: u.adminUrl }, { code })).headers['set-cookie']!;
      expect(cookie).toContain('Max-Age=3600');
      const sid = cookie.split(';')[0]!;
      c.t += 29 * MIN;
      expect((await go('GET', '/api/v1/status', { cookie: sid })).status).toBe(200);
      c.t += 31 * MIN;
      expect((await go('GET', '/api/v1/status', { cookie: sid })).status).toBe(401);
    } finally {
      await u.stop();
    }
  });
});
