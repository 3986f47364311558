/**
 * Floods from the rack against the real node plane (issue 10 §2 "Limits", §5 ReDoS): garbage MACs,
 * event spam, oversized facts, slow clients and catastrophic regexes. Each limit trips for the flooding
 * source only; the positive control beside it (another source, a known node, a normal request) works.
 * Limits are set low here through the same settings an operator or a benchmark uses.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { httpFrom } from './helpers/http-from.ts';
import { install, setupInstallTask } from './helpers/install-task.ts';
import { bucketBound } from '../support/bucket-bound.ts';
import type { Settings } from '../../server/settings/settings-service.ts';

let t: TestAppliance | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});
const start = async (settings: Partial<Settings>, now?: () => Date) =>
  (t = await startTestAppliance({}, { settings, ...(now === undefined ? {} : { now }) }));
/**
 * The appliance's clock, stopped: no bucket refills during the flood, so what got through is exactly the budget
 * however long this machine took to send it (the cases on the real clock bound it by that time: bucketBound).
 */
const stopped = (): (() => Date) => {
  const at = Date.now();
  return () => new Date(at);
};
const mac = (i: number) => `02:5e:c0:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
const events = async (a: TestAppliance, type: string) =>
  (await a.admin('GET', `/api/v1/events?type=${type}&limit=10000`)).body.events as { type: string; data: Record<string, unknown> }[];

describe('unknown-MAC node creation', () => {
  it('is limited per source: the flooding address gets 429, a known node and another address still boot', async () => {
    const a = await start({ node_create_per_source_per_min: 5 }, stopped());
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await httpFrom('127.0.0.1', 'GET', `${a.nodeUrl}/boot?mac=${mac(i)}`)).status);
    expect(codes.filter((c) => c === 200)).toHaveLength(5);
    expect(codes.slice(5).every((c) => c === 429)).toBe(true);
    expect((await a.admin('GET', '/api/v1/nodes')).body.total).toBe(5);
    // Known MACs need no new record; another source has its own budget.
    expect((await httpFrom('127.0.0.1', 'GET', `${a.nodeUrl}/boot?mac=${mac(0)}`)).status).toBe(200);
    expect((await httpFrom('127.0.0.2', 'GET', `${a.nodeUrl}/boot?mac=${mac(100)}`)).status).toBe(200);
    const tripped = (await events(a, 'node.suppressed')).filter((e) => e.data.kind === 'create');
    expect(tripped).toHaveLength(1);
    expect(tripped[0]!.data).toMatchObject({ source: '127.0.0.1', tripped: true });
  });

  it('is capped in total: past unregistered_nodes_max no new record is made, registered nodes are unaffected', async () => {
    const a = await start({ unregistered_nodes_max: 4, node_create_per_source_per_min: 0 });
    const n = new ProtocolNode(a, [mac(500)], { x: 1 });
    await n.boot();
    await n.register();
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await a.node('GET', `/boot?mac=${mac(i)}`)).status);
    expect(codes).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect((await n.checkin()).status).toBe(200);
    // Forgetting garbage makes room again.
    const ids = ((await a.admin('GET', '/api/v1/nodes?state=booting-microkernel')).body.nodes as { id: number }[]).map((d) => d.id);
    expect((await a.admin('POST', '/api/v1/nodes/forget', { node_ids: ids })).status).toBe(200);
    expect((await a.node('GET', `/boot?mac=${mac(9)}`)).status).toBe(200);
  });
});

describe('events from the rack', () => {
  it('summarises node.discovered past its per-minute cap instead of writing one per forged MAC', async () => {
    const a = await start({ discovered_events_per_min: 3, node_create_per_source_per_min: 0 }, stopped());
    for (let i = 0; i < 10; i++) expect((await a.node('GET', `/boot?mac=${mac(i)}`)).status).toBe(200);
    expect((await a.admin('GET', '/api/v1/nodes')).body.total).toBe(10); // every record exists...
    expect(await events(a, 'node.discovered')).toHaveLength(3); // ...only three announced one by one
    const summary = (await events(a, 'node.suppressed')).filter((e) => e.data.kind === 'discovered');
    expect(summary).toHaveLength(1);
  });

  it("drops a source's unauthenticated events past its budget; the log keeps what came before", async () => {
    const a = await start({ node_events_per_source_per_min: 10 });
    const victim = new ProtocolNode(a, [mac(900)], { x: 1 });
    await httpFrom('127.0.0.3', 'GET', `${a.nodeUrl}/boot?mac=${mac(900)}`).then((r) => (victim.script = r.text));
    expect((await victim.register()).status).toBe(200);
    const first = (await events(a, 'node.')).length;
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) await httpFrom('127.0.0.1', 'GET', `${a.nodeUrl}/boot?mac=${mac(1)}`);
    // The budget is a token bucket: 10 at once, then 10 a minute refilled over however long the flood took.
    const budget = bucketBound(10, t0);
    const fromFlooder = (await events(a, 'node.boot')).filter((e) => e.data.ip === '127.0.0.1');
    expect(fromFlooder.length).toBeLessThanOrEqual(budget);
    expect(fromFlooder.length).toBeLessThan(200 / 4);
    expect((await events(a, 'node.suppressed')).some((e) => e.data.kind === 'events' && e.data.source === '127.0.0.1')).toBe(true);
    // The victim's history is still there, and its own events still get through.
    const mine = (await a.admin('GET', `/api/v1/nodes/${victim.nodeId}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(mine).toEqual(expect.arrayContaining(['node.discovered', 'node.boot', 'node.registered']));
    await httpFrom('127.0.0.3', 'GET', `${a.nodeUrl}/boot?mac=${mac(900)}`);
    expect((await events(a, 'node.boot')).filter((e) => e.data.ip === '127.0.0.3')).toHaveLength(2);
    expect((await events(a, 'node.')).length).toBeLessThan(first + 20);
  });
});

describe('events from many addresses', () => {
  it('stay under the ceiling over all sources (node_events_per_min); every one is recorded or counted', async () => {
    // Each address keeps within its own budget (120 a minute): only the ceiling over all sources can bound this.
    const a = await start({ node_events_per_min: 5 }, stopped());
    const SOURCES = 30;
    for (let i = 0; i < SOURCES; i++)
      expect((await httpFrom(`127.0.1.${i + 1}`, 'GET', `${a.nodeUrl}/boot?mac=${mac(2000 + i)}`)).status).toBe(200);
    const fromFlood = () => events(a, 'node.boot').then((l) => l.filter((e) => String(e.data.ip).startsWith('127.0.1.')));
    const recorded = (await fromFlood()).length;
    expect(recorded).toBe(5); // the bucket's 5 at once; the stopped clock refills none
    const ceiling = () => events(a, 'node.suppressed').then((l) => l.filter((e) => e.data.kind === 'node_events'));
    // Every /boot made a record first, so its node.boot names a node: the known nodes' bucket tripped, once.
    expect((await ceiling()).map((e) => e.data)).toEqual([{ kind: 'node_events', source: 'node-plane-nodes', tripped: true }]);
    // The other bucket is untouched: no per-source limit tripped either.
    expect((await events(a, 'node.suppressed')).filter((e) => e.data.kind === 'events')).toEqual([]);
    // Lifted: the next event is recorded after a summary with the count, so recorded + counted is every request.
    expect((await a.admin('PATCH', '/api/v1/settings', { node_events_per_min: 0 })).status).toBe(200);
    expect((await httpFrom('127.0.2.1', 'GET', `${a.nodeUrl}/boot?mac=${mac(2100)}`)).status).toBe(200);
    const over = (await ceiling())[0]!; // newest first
    expect(over.data).toEqual({ kind: 'node_events', source: 'node-plane-nodes', dropped: SOURCES - recorded, tripped: false });
    expect((await events(a, 'node.boot')).some((e) => e.data.ip === '127.0.2.1')).toBe(true);
  });
});

describe("a node's own events (behind its token)", () => {
  const ofNode = async (a: TestAppliance, id: number) =>
    ((await a.admin('GET', `/api/v1/nodes/${id}/events?limit=10000`)).body.events as { type: string; data: Record<string, unknown> }[]).map(
      (e) => e.type,
    );

  it('are budgeted per node: check-ins marked first and facts changed on every register write at most the budget', async () => {
    const a = await start({ node_events_per_source_per_min: 5 });
    const flooder = new ProtocolNode(a, [mac(3000)], { x: 0 });
    const other = new ProtocolNode(a, [mac(3001)], { x: 0 });
    for (const n of [flooder, other]) {
      await n.boot();
      expect((await n.register()).status).toBe(200);
    }
    const t0 = Date.now();
    // A valid token every time: each request is accepted, only what it writes to the log is bounded.
    for (let i = 0; i < 40; i++) expect((await flooder.checkin(true)).status).toBe(200);
    for (let i = 1; i <= 20; i++) {
      flooder.facts = { x: i };
      expect((await flooder.register()).status).toBe(200);
    }
    const budget = bucketBound(5, t0);
    const own = (await ofNode(a, flooder.nodeId)).filter((t) => t === 'node.checkin' || t === 'node.facts_changed');
    expect(own.length).toBeGreaterThanOrEqual(5);
    expect(own.length).toBeLessThanOrEqual(budget);
    const source = `node ${flooder.nodeId}`;
    const tripped = () => events(a, 'node.suppressed').then((l) => l.filter((e) => e.data.kind === 'events' && e.data.source === source));
    expect((await tripped()).map((e) => e.data)).toEqual([{ kind: 'events', source, tripped: true }]);
    // The summary is on the node's own timeline as well.
    expect(await ofNode(a, flooder.nodeId)).toContain('node.suppressed');
    // The facts themselves were taken: the record has the last ones.
    expect((await a.admin('GET', `/api/v1/nodes/${flooder.nodeId}/facts`)).body.facts).toMatchObject({ x: 20 });
    // What came before stays, and another node's own events are its own budget's.
    expect(await ofNode(a, flooder.nodeId)).toContain('node.registered');
    expect((await other.checkin(true)).status).toBe(200);
    expect(await ofNode(a, other.nodeId)).toContain('node.checkin');
    // Lifted: a summary with the count first, so recorded plus counted is every one the flooder caused.
    expect((await a.admin('PATCH', '/api/v1/settings', { node_events_per_source_per_min: 0 })).status).toBe(200);
    expect((await flooder.checkin(true)).status).toBe(200);
    const over = (await events(a, 'node.suppressed')).find((e) => e.data.source === source && e.data.tripped === false);
    expect(over?.data).toEqual({ kind: 'events', source, dropped: 60 - own.length, tripped: false });
    expect((await ofNode(a, flooder.nodeId)).filter((t) => t === 'node.checkin' || t === 'node.facts_changed')).toHaveLength(
      own.length + 1,
    );
  });

  it('install stages: a report that moves nothing is within the budget, the move to installed is always recorded', async () => {
    const a = await start({ node_events_per_source_per_min: 3 });
    await setupInstallTask(a);
    const n = new ProtocolNode(a, [mac(3100)], { x: 0 });
    await n.boot();
    expect((await n.register()).status).toBe(200);
    const { stage } = await install(a, n);
    // The first `installing` moves the node (bound -> installing); the 29 after it move nothing.
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) expect((await fetch(`${stage}&name=installing&detail=step-${i}`)).status).toBe(200);
    const stages = async () => (await events(a, 'node.stage')).map((e) => `${e.data.from}->${e.data.to}`);
    const repeats = (await stages()).filter((s) => s === 'installing->installing').length;
    // The budget at once, then 3 a minute refilled over the flood.
    expect(repeats).toBeGreaterThanOrEqual(3);
    expect(repeats).toBeLessThanOrEqual(bucketBound(3, t0));
    expect(await stages()).toContain('bound->installing');
    // The budget is spent, yet the end of the install is recorded (hooks run on it).
    expect((await fetch(`${stage}&name=installed`)).status).toBe(200);
    expect((await stages())[0]).toBe('installing->installed'); // newest first
    expect((await a.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body.state).toBe('installed');
  });
});

describe('facts bytes per source', () => {
  it('refuses registrations past facts_bytes_per_source_per_min with 429, before reading them', async () => {
    const a = await start({ facts_bytes_per_source_per_min: 3 * 1024 * 1024 });
    const body = { hw_id: 'x', macs: [mac(1)], token: 'not-a-real-token', facts: { blob: 'y'.repeat(60_000) } };
    const big = { ...body, facts: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`f${i}`, 'z'.repeat(60_000)])) };
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await httpFrom('127.0.0.1', 'POST', `${a.nodeUrl}/api/v1/register`, big)).status);
    // ~1 MiB each: three fit in the budget (and fail on the fake token), the rest are refused unread.
    expect(codes.slice(0, 3)).toEqual([403, 403, 403]);
    expect(codes.slice(3)).toEqual([429, 429]);
    const r = await httpFrom('127.0.0.1', 'POST', `${a.nodeUrl}/api/v1/register`, big);
    expect(r.status).toBe(429);
    expect(r.body.code).toBe('CC_ERR_RATE_LIMITED');
    // What is left of the budget still takes a small registration.
    expect((await httpFrom('127.0.0.1', 'POST', `${a.nodeUrl}/api/v1/register`, body)).status).toBe(403);
    expect((await httpFrom('127.0.0.2', 'POST', `${a.nodeUrl}/api/v1/register`, big)).status).toBe(403);
  });
});

/** Open a socket, send `head`, then trickle one byte a while; resolves with what the server said when it hung up. */
function trickle(url: string, head: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let got = '';
    let timer: ReturnType<typeof setInterval> | null = null;
    const giveUp = setTimeout(() => reject(new Error('the server never closed the slow connection')), 60_000);
    s.on('connect', () => {
      s.write(head);
      timer = setInterval(() => s.write('x'), 200);
    });
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', () => undefined); // a reset is a hang-up too
    s.on('close', () => {
      if (timer) clearInterval(timer);
      clearTimeout(giveUp);
      resolve(got);
    });
  });
}

describe('slow clients', () => {
  it('are cut off on both planes when headers or a body trickle in; normal requests are served', async () => {
    const a = await start({ http_headers_timeout_s: 1, http_request_timeout_s: 2 });
    for (const base of [a.nodeUrl, a.adminUrl]) {
      // The outcome: the server hangs up (408 or a bare close) instead of waiting for ever.
      const headers = await trickle(`${base}/health`, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      expect(headers === '' || headers.startsWith('HTTP/1.1 408'), headers).toBe(true);
      // Positive control: the same plane answers a normal request.
      expect((await fetch(`${base}/health`)).status).toBeLessThan(500);
    }
    const body = await trickle(
      `${a.nodeUrl}/api/v1/register`,
      'POST /api/v1/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    expect(body === '' || body.startsWith('HTTP/1.1 408'), body).toBe(true);
    expect((await a.node('GET', '/health')).status).toBe(200);
  });
});

describe('like rules (ReDoS)', () => {
  it('a catastrophic pattern on a 64 KiB fact finishes: registration answers and tags correctly', async () => {
    const a = await start({});
    // Accepted: nested quantifiers under a group are linear for the matcher (no backtracking).
    const tag = await a.admin('POST', '/api/v1/tags', { name: 'redos', rule: ['like', ['fact', 'blob'], '^(a+)+$'] });
    expect(tag.status).toBe(201);
    const evil = new ProtocolNode(a, [mac(1)], { blob: 'a'.repeat(65535) + '!' });
    await evil.boot();
    expect((await evil.register()).status).toBe(200);
    expect((await a.admin('GET', `/api/v1/nodes/${evil.nodeId}`)).body.tags).toEqual([]);
    // Positive control: a matching fact gets the tag.
    const good = new ProtocolNode(a, [mac(2)], { blob: 'a'.repeat(65536) });
    await good.boot();
    await good.register();
    expect((await a.admin('GET', `/api/v1/nodes/${good.nodeId}`)).body.tags).toEqual(['redos']);
    // Patterns the linear matcher cannot run are refused when saved, with the position.
    const refused = await a.admin('POST', '/api/v1/tags', { name: 'backref', rule: ['like', ['fact', 'blob'], '^(a+)\\1$'] });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/rule\[2\]: .* at offset 5: backreferences are not supported/);
  });
});
