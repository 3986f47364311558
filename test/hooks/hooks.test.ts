/**
 * Hooks on a real appliance (in-process, real sockets): a real script hook
 * gets the node as JSON on stdin; a real HTTP receiver on loopback checks the
 * HMAC signature, answers 500 twice and sees the retries; the secret never
 * appears in an API answer, the log or the store; a hook that hangs does not
 * hold up a machine's registration.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { registerMachine } from '../cli/cli-kit.ts';
import { verifySignature } from '../../server/hooks/hook-sign.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import type { Hook, HookDelivery } from '../../contract/index.ts';

const SECRET = 'hook-secret-' + 'k'.repeat(24);
const { log, logged } = recordingLogger();

let t: InProcessAppliance;
let auth: Record<string, string>;
let receiver: http.Server;
const received: { ok: boolean; body: string; status: number }[] = [];

const api = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
  const r = await t.admin.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as unknown) : null, text: r.body };
};

/** Poll the delivery log until `pred` holds (bounded by the test timeout, not asserted on time). */
async function until(id: string, pred: (d: HookDelivery[]) => boolean): Promise<HookDelivery[]> {
  for (;;) {
    const d = ((await api('GET', `/api/v1/hooks/${id}/deliveries`)).body as { deliveries: HookDelivery[] }).deliveries;
    if (pred(d)) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // The receiver: verifies the signature like docs/hooks.md says, fails the first two deliveries with 500.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const ts = Number(req.headers['x-crashcart-timestamp']);
      const ok = verifySignature(SECRET, String(req.headers['x-crashcart-signature']), ts, body, Math.floor(Date.now() / 1000));
      const status = !ok ? 401 : received.filter((r) => r.ok).length < 2 ? 500 : 204;
      received.push({ ok, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t = await startInProcess([], { log });
  auth = { authorization: `Bearer ${await t.token()}` };
  const hooksDir = path.join(t.dataDir, 'hooks');
  fs.mkdirSync(hooksDir, { recursive: true });
  // A real script: records its argv, its environment and stdin.
  fs.writeFileSync(path.join(hooksDir, 'record.sh'), `#!/bin/sh\n{ echo "$1"; env | sort; cat; } > "${path.join(hooksDir, 'out')}.$$"\n`, {
    mode: 0o755,
  });
  fs.writeFileSync(path.join(hooksDir, 'hang.sh'), `#!/bin/sh\ntouch "${path.join(hooksDir, 'hang.started')}"\nsleep 60\n`, {
    mode: 0o755,
  });
}, 120_000);
afterAll(async () => {
  await t?.stop();
  receiver?.close();
});

describe('hooks', { timeout: 120_000 }, () => {
  it('refuses incomplete hooks with a catalog code, and never answers the secret', async () => {
    const bad = await api('POST', '/api/v1/hooks', { name: 'x', events: ['bound'], kind: 'webhook' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('CC_ERR_HOOK_INVALID');
    const made = await api('POST', '/api/v1/hooks', {
      name: 'receiver',
      events: ['registered'],
      kind: 'webhook',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      secret: SECRET,
    });
    expect(made.status).toBe(201);
    expect((made.body as Hook).has_secret).toBe(true);
    expect(made.text).not.toContain(SECRET);
    const list = await api('GET', '/api/v1/hooks');
    expect(list.text).not.toContain(SECRET);
    expect(fs.readFileSync(path.join(t.dataDir, 'db', 'hooks.db'), 'utf8')).not.toContain(SECRET);

    // Edit: without `secret` the sealed one stays; `null` removes it; a script hook with a url is refused.
    const id = (made.body as Hook).id;
    const base = { name: 'edited', events: ['registered', 'lost'], kind: 'webhook', url: 'http://127.0.0.1:9/x' };
    const kept = await api('PUT', `/api/v1/hooks/${id}`, base);
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ id, name: 'edited', events: ['registered', 'lost'], has_secret: true });
    expect((await api('PUT', `/api/v1/hooks/${id}`, { ...base, secret: null })).body).toMatchObject({ has_secret: false });
    const wrong = await api('PUT', `/api/v1/hooks/${id}`, { ...base, kind: 'script', script: 'x.sh' });
    expect(wrong.text).toContain('CC_ERR_HOOK_INVALID');
    expect((await api('PUT', '/api/v1/hooks/ffff0000', base)).status).toBe(404);
    // Back as the next test expects it.
    const back = await api('PUT', `/api/v1/hooks/${id}`, {
      ...base,
      name: 'receiver',
      events: ['registered'],
      url: made.body && (made.body as Hook).url,
      secret: SECRET,
    });
    expect(back.body).toMatchObject({ name: 'receiver', has_secret: true });
    expect(back.text).not.toContain(SECRET);
  });

  it('runs a script with the node on stdin and a minimal environment, and retries a webhook after 500s', async () => {
    const script = (
      await api('POST', '/api/v1/hooks', { name: 'record', events: ['registered', 'bound'], kind: 'script', script: 'record.sh' })
    ).body as Hook;
    const id = await registerMachine(t.nodeUrl, '52:54:00:44:00:01');
    await until(script.id, (d) => d.some((x) => x.status === 'ok' && x.node_id === id));
    const dir = path.join(t.dataDir, 'hooks');
    const out = fs.readFileSync(
      path.join(
        dir,
        fs.readdirSync(dir).find((f) => f.startsWith('out.'))!,
      ),
      'utf8',
    );
    const [argv, ...rest] = out.split('\n');
    expect(argv).toBe('registered');
    const env = rest.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    expect(env.filter((k) => !['PWD', 'SHLVL', '_'].includes(k ?? ''))).toEqual(['CRASHCART_EVENT', 'LANG', 'PATH']);
    const payload = JSON.parse(rest.find((l) => l.startsWith('{'))!) as { event: string; node: { id: number; macs: string[] } };
    expect(payload.event).toBe('registered');
    expect(payload.node.id).toBe(id);
    expect(payload.node.macs).toEqual(['52:54:00:44:00:01']);

    const hook = ((await api('GET', '/api/v1/hooks')).body as { hooks: Hook[] }).hooks.find((h) => h.name === 'receiver')!;
    const [d] = await until(hook.id, (x) => x.some((y) => y.status === 'ok'));
    expect(d!.attempts).toBe(3);
    expect(received.map((r) => [r.ok, r.status])).toEqual([
      [true, 500],
      [true, 500],
      [true, 204],
    ]);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(logged.join('\n')).not.toContain(SECRET);
    expect(logged.join('\n')).toContain('HTTP 500');
  });

  it('a hook that hangs does not hold up registration', async () => {
    const hang = (await api('POST', '/api/v1/hooks', { name: 'hang', events: ['registered'], kind: 'script', script: 'hang.sh' }))
      .body as Hook;
    const id = await registerMachine(t.nodeUrl, '52:54:00:44:00:02');
    // Registration has answered; the hook started and is still running: nothing waited for it.
    await until(hang.id, (d) => d.some((x) => x.node_id === id));
    for (let i = 0; !fs.existsSync(path.join(t.dataDir, 'hooks', 'hang.started')); i++) await new Promise((r) => setTimeout(r, 100));
    const d = await until(hang.id, () => true);
    expect(d[0]).toMatchObject({ node_id: id, attempts: 0, status: 'pending' });
    expect(((await api('GET', `/api/v1/nodes/${id}`)).body as { state: string }).state).toBe('registered');
    expect((await api('DELETE', `/api/v1/hooks/${hang.id}`)).status).toBe(204);
    expect((await api('GET', `/api/v1/hooks/${hang.id}/deliveries`)).status).toBe(404);
  });
});
