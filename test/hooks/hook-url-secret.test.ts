/**
 * A webhook URL is write-only (docs/hooks.md, "Webhook URLs are write-only"), on a real appliance (in-process) with
 * a real HTTP receiver on loopback: a Slack-style URL with a token in its path, userinfo and a `?token=` is answered
 * only in its display form, is not in the store's file in clear, nor in the delivery log, the event log, the log
 * or a bundle; deliveries still reach the full URL (userinfo as `Authorization: Basic`); an edit without `url`
 * keeps it, and one with a new URL replaces it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { verifySignature } from '../../server/hooks/hook-sign.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import type { Hook, HookDelivery } from '../../contract/index.ts';

const SECRET = 'url-test-secret-' + 'u'.repeat(20);
/** The parts of the URL that are credentials: none may leave the appliance except in a delivery. */
const USER = 'hookuser';
const PASSWORD = 'UserPass8c2bWq';
const PATH_TOKEN = 'XoxbPathToken7f3a9cKq';
const QUERY_TOKEN = 'QueryToken5d1eZr';
const NEW_TOKEN = 'NewPathToken0b9dLm';
const SECRETS = [USER, PASSWORD, PATH_TOKEN, QUERY_TOKEN, NEW_TOKEN, SECRET];

const { log, logged } = recordingLogger();

let t: InProcessAppliance;
let auth: Record<string, string>;
let receiver: http.Server;
let port: number;
let hook: Hook;
/** What the receiver saw of each request. */
const received: { path: string; authorization: string | undefined; signed: boolean }[] = [];

const fullUrl = () => `http://${USER}:${PASSWORD}@127.0.0.1:${port}/services/T000/B000/${PATH_TOKEN}?token=${QUERY_TOKEN}`;
const displayed = () => `http://…@127.0.0.1:${port}/services/…?…`;
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const api = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
  const r = await t.admin.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  return {
    status: r.statusCode,
    body: r.body && String(r.headers['content-type']).includes('json') ? (JSON.parse(r.body) as unknown) : null,
    text: r.body,
  };
};

/** None of the URL's secret parts (nor the HMAC secret) is in `text`. */
function expectNoSecrets(text: string, where: string): void {
  for (const s of SECRETS) expect(text.includes(s), `${where} holds ${s}`).toBe(false);
}

/** Test-fire the hook; answers with its first attempt and what the receiver saw of it. */
async function fire(): Promise<{ d: HookDelivery; seen: (typeof received)[number] | undefined }> {
  const before = received.length;
  const r = await api('POST', `/api/v1/hooks/${hook.id}/test`, {});
  expect(r.status, r.text).toBe(200);
  return { d: r.body as HookDelivery, seen: received[before] };
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const ts = Number(req.headers['x-crashcart-timestamp']);
      const signed = verifySignature(SECRET, String(req.headers['x-crashcart-signature']), ts, body, Math.floor(Date.now() / 1000));
      received.push({ path: req.url ?? '', authorization: req.headers.authorization, signed });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  port = (receiver.address() as AddressInfo).port;
  t = await startInProcess([], { log });
  auth = { authorization: `Bearer ${await t.token()}` };
}, 120_000);
afterAll(async () => {
  await t?.stop();
  receiver?.close();
});

describe('a webhook URL is write-only', { timeout: 60_000 }, () => {
  it('is answered only in its display form and is not in the store file in clear', async () => {
    const made = await api('POST', '/api/v1/hooks', {
      name: 'slack',
      events: ['registered'],
      kind: 'webhook',
      url: fullUrl(),
      secret: SECRET,
    });
    expect(made.status, made.text).toBe(201);
    hook = made.body as Hook;
    expect(hook.url).toBe(displayed());
    expectNoSecrets(made.text, 'POST answer');
    const list = await api('GET', '/api/v1/hooks');
    expect((list.body as { hooks: Hook[] }).hooks).toEqual([hook]);
    expectNoSecrets(list.text, 'GET /api/v1/hooks');
    expectNoSecrets(fs.readFileSync(path.join(t.dataDir, 'db', 'hooks.db'), 'utf8'), 'db/hooks.db');
  });

  it('is delivered to in full: path, query, and its userinfo as Basic authorization', async () => {
    const { d, seen } = await fire();
    expect(d).toMatchObject({ status: 'ok', attempts: 1, last_error: null });
    expect(seen).toEqual({ path: `/services/T000/B000/${PATH_TOKEN}?token=${QUERY_TOKEN}`, authorization: basic, signed: true });
  });

  it('an edit without url (or with the display form) keeps it; a new url replaces it; a masked one is refused', async () => {
    const base = { name: 'slack', events: ['registered', 'lost'], kind: 'webhook' };
    const kept = await api('PUT', `/api/v1/hooks/${hook.id}`, base);
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ events: ['registered', 'lost'], url: displayed(), has_secret: true });
    expect((await fire()).seen).toMatchObject({ path: `/services/T000/B000/${PATH_TOKEN}?token=${QUERY_TOKEN}`, authorization: basic });

    // A client that reads the hook and sends it back whole keeps the URL too.
    const echoed = await api('PUT', `/api/v1/hooks/${hook.id}`, { ...base, url: displayed() });
    expect(echoed.status, echoed.text).toBe(200);
    expect((await fire()).seen).toMatchObject({ path: `/services/T000/B000/${PATH_TOKEN}?token=${QUERY_TOKEN}`, authorization: basic });

    const masked = await api('PUT', `/api/v1/hooks/${hook.id}`, { ...base, url: `http://127.0.0.1:${port}/services/…` });
    expect(masked.status).toBe(400);
    expect(masked.text).toContain('CC_ERR_HOOK_INVALID');

    const replaced = await api('PUT', `/api/v1/hooks/${hook.id}`, { ...base, url: `http://127.0.0.1:${port}/other/${NEW_TOKEN}` });
    expect(replaced.status, replaced.text).toBe(200);
    expect((replaced.body as Hook).url).toBe(`http://127.0.0.1:${port}/other/…`);
    expectNoSecrets(replaced.text, 'PUT answer');
    expect((await fire()).seen).toEqual({ path: `/other/${NEW_TOKEN}`, authorization: undefined, signed: true });
    expectNoSecrets(fs.readFileSync(path.join(t.dataDir, 'db', 'hooks.db'), 'utf8'), 'db/hooks.db');
  });

  it('is not in the delivery log, the event log, the log or a bundle', async () => {
    // One delivery that fails (a port nobody listens on), so the error text is in the log too.
    const dead = await api('POST', '/api/v1/hooks', {
      name: 'dead',
      events: ['lost'],
      kind: 'webhook',
      url: `http://${USER}:${PASSWORD}@127.0.0.1:9/services/T000/B000/${PATH_TOKEN}?token=${QUERY_TOKEN}`,
    });
    expect(dead.status, dead.text).toBe(201);
    const failed = await api('POST', `/api/v1/hooks/${(dead.body as Hook).id}/test`, {});
    expect(failed.body).toMatchObject({ status: 'retrying', attempts: 1 });
    expect((failed.body as HookDelivery).last_error).toMatch(/^cannot reach 127\.0\.0\.1:9: /);

    for (const id of [hook.id, (dead.body as Hook).id])
      expectNoSecrets((await api('GET', `/api/v1/hooks/${id}/deliveries`)).text, 'the delivery log');
    expectNoSecrets((await api('GET', '/api/v1/events?limit=10000')).text, 'the event log');
    const bundle = await api('GET', '/api/v1/bundle?with_nodes=true');
    expect(bundle.status).toBe(200);
    expectNoSecrets(bundle.text, 'the bundle');
    expect(logged.some((l) => l.includes('hook delivery failed'))).toBe(true);
    expectNoSecrets(logged.join('\n'), 'the log');
    expect((await api('DELETE', `/api/v1/hooks/${(dead.body as Hook).id}`)).status).toBe(204);
  });
});
