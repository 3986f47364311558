/**
 * Hook deliveries survive a crash (issue 15, "retries with back-off"): a real `crashcart serve` process
 * posts a signed webhook to a real receiver on loopback that answers 500; once the log shows the delivery
 * `retrying` the process is SIGKILLed, the receiver starts answering 204, and a new process on the same
 * data dir retries the same delivery (same id, same body, attempt count kept) no earlier than its
 * recorded `next_attempt_at`, and logs it `ok`. A test-fire from the API is delivered and logged too.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { registerMachine } from '../cli/cli-kit.ts';
import { verifySignature } from '../../server/hooks/hook-sign.ts';
import type { Hook, HookDelivery } from '../../contract/index.ts';

const SECRET = 'restart-secret-' + 'r'.repeat(20);
let a: ProcessAppliance | null = null;
let b: ProcessAppliance | null = null;
let receiver: http.Server;
let failing = true;
const received: { delivery: string; body: string; signed: boolean; at: number; status: number }[] = [];

async function api<T>(p: ProcessAppliance, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${p.adminUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${await p.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Poll the delivery log until `pred` holds (bounded by the test timeout; no timing asserted). */
async function until(p: ProcessAppliance, id: string, pred: (d: HookDelivery[]) => boolean): Promise<HookDelivery[]> {
  for (;;) {
    const d = (await api<{ deliveries: HookDelivery[] }>(p, 'GET', `/api/v1/hooks/${id}/deliveries`)).deliveries;
    if (pred(d)) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const ts = Number(req.headers['x-crashcart-timestamp']);
      const signed = verifySignature(SECRET, String(req.headers['x-crashcart-signature']), ts, body, Math.floor(Date.now() / 1000));
      const status = !signed ? 401 : failing ? 500 : 204;
      received.push({ delivery: String(req.headers['x-crashcart-delivery']), body, signed, at: Date.now(), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  a = await spawnAppliance(['--log-level', 'warn']);
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  receiver?.close();
  if (a) rmSync(a.dataDir, { recursive: true, force: true });
});

describe('hook retries across a restart', { timeout: 300_000 }, () => {
  it('a delivery retrying when the appliance is SIGKILLed is retried by the next one, on schedule, and ends ok', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hook = await api<Hook>(a!, 'POST', '/api/v1/hooks', {
      name: 'crm',
      events: ['registered'],
      kind: 'webhook',
      url,
      secret: SECRET,
    });
    const nodeId = await registerMachine(a!.nodeUrl, '52:54:00:45:00:01');
    const [before] = await until(a!, hook.id, (d) => d.some((x) => x.node_id === nodeId && x.status === 'retrying'));
    a!.child.kill('SIGKILL');
    await new Promise((r) => (a!.child.exitCode !== null || a!.child.signalCode !== null ? r(null) : a!.child.once('exit', r)));
    expect(before!.next_attempt_at).not.toBeNull();
    // What the receiver saw before the crash: this delivery, signed, refused.
    const seen = received.filter((r) => r.delivery === before!.id);
    expect(seen.length).toBeGreaterThanOrEqual(before!.attempts);
    expect(seen.every((r) => r.signed && r.status === 500)).toBe(true);
    // A crash may cut between an attempt and its record: the log is what the next process resumes from.
    const sentBefore = received.length;

    failing = false;
    b = await spawnAppliance(['--log-level', 'warn'], { dataDir: a!.dataDir });
    const [after] = await until(b, hook.id, (d) => d.some((x) => x.id === before!.id && x.status === 'ok'));
    expect(after).toMatchObject({ id: before!.id, node_id: nodeId, event: 'registered', last_error: null, next_attempt_at: null });
    expect(after!.attempts).toBeGreaterThan(before!.attempts);
    const retried = received.slice(sentBefore).filter((r) => r.delivery === before!.id);
    expect(retried.map((r) => r.status)).toEqual([204]);
    // The same bytes as before the crash (the payload was stored), and not sent before it was due.
    expect(retried[0]!.body).toBe(seen[0]!.body);
    expect(JSON.parse(retried[0]!.body)).toMatchObject({ event: 'registered', node: { id: nodeId } });
    expect(retried[0]!.at).toBeGreaterThanOrEqual(Date.parse(before!.next_attempt_at!));

    // Test-fire: answered with the first attempt's outcome, and in the log.
    const fired = await api<HookDelivery>(b, 'POST', `/api/v1/hooks/${hook.id}/test`, {});
    expect(fired).toMatchObject({ event: 'test', status: 'ok', attempts: 1, node_id: null });
    expect(JSON.parse(received.at(-1)!.body)).toMatchObject({ event: 'test', node: null });
    expect((await until(b, hook.id, () => true)).map((d) => d.id)).toContain(fired.id);
  });
});
