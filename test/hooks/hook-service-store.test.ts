/**
 * The hook service on a real store and event log (no appliance): hook definitions are on disk (fsync'ed) when
 * create, update and remove resolve, and a delivery's record is fsync'ed before its first attempt reaches the
 * receiver (checked with the files' group commit: a sync right after finds nothing left to flush). A webhook
 * whose sealed URL or secret no longer opens (the key file was replaced) fails its deliveries visibly, with the
 * fix and a `hook.failed` event, and never sends them unsigned; entering the URL and the secret again makes it
 * deliver. A delivery that fails its last attempt records one `hook.failed` event. A hook stored with a plain URL
 * by an older version is sealed at start, and the plain URL is gone from the file.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStore, type Store } from '../../server/store/store.ts';
import { EventLog } from '../../server/events/event-log.ts';
import { HookService } from '../../server/hooks/hook-service.ts';
import { KEY_FILE } from '../../server/secrets/key-file.ts';
import type { GroupFsync } from '../../server/store/group-fsync.ts';
import type { Logger } from '../../server/core/plugin.ts';
import type { HookDelivery } from '../../contract/index.ts';
import { tmpDir } from '../support/appliance.ts';
import { eventProblems, ofType } from '../support/events.ts';
import type { CcEvent } from '../../contract/index.ts';
import type { HookDoc } from '../../server/store/docs.ts';

const SECRET = 'store-test-secret-' + 's'.repeat(20);

let dir: string;
let store: Store | null;
let events: EventLog | null;
let hooks: HookService | null;
let receiver: http.Server;
let url: string;
/** What the receiver saw: the signature header, and whether the delivery file had unsynced writes at that moment. */
let received: { signed: boolean; recordSynced: boolean }[];
/** The path (and query) of each request the receiver saw, and the status it answers with. */
let paths: string[];
let answer: number;
/** Every event the log recorded since the service started. */
let recorded: CcEvent[];
const warned: string[] = [];
const log: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (o, m) => warned.push(JSON.stringify(o) + (m ?? '')),
  error: (o, m) => warned.push(JSON.stringify(o) + (m ?? '')),
};

/** True when everything written to the file before now is already on disk (the sync finds nothing to flush). */
async function flushed(g: GroupFsync): Promise<boolean> {
  const skips = g.cleanSkips;
  await g.sync();
  return g.cleanSkips === skips + 1;
}

async function start(): Promise<HookService> {
  store = await openStore(dir, 0, 'hook-test');
  events = await EventLog.open(store.eventsFile, store.legacyEventsFile, 1000);
  events.subscribe((e) => recorded.push(e));
  hooks = await HookService.start({
    store,
    events,
    dataDir: dir,
    log,
    now: () => new Date(),
    nodeView: () => null,
    limits: { retryBaseMs: 10, retryMaxMs: 20, maxAttempts: 3 },
  });
  return hooks;
}

async function stop(): Promise<void> {
  await hooks?.stop();
  await events?.close();
  await store?.close();
  hooks = events = store = null;
}

/** Poll a hook's delivery log until `pred` holds (bounded by the test timeout; nothing timed). */
async function until(id: string, pred: (d: HookDelivery[]) => boolean): Promise<HookDelivery[]> {
  for (;;) {
    const d = await hooks!.deliveries(id);
    if (pred(d)) return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeEach(async () => {
  dir = await tmpDir('cc-hooks-store-');
  received = [];
  paths = [];
  answer = 204;
  recorded = [];
  warned.length = 0;
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // Called while the attempt waits for our answer: the record written before it must already be on disk.
      void flushed(store!.hookDeliveries.fsync).then((recordSynced) => {
        received.push({ signed: typeof req.headers['x-crashcart-signature'] === 'string', recordSynced });
        paths.push(req.url ?? '');
        res.writeHead(answer).end();
      });
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterEach(async () => {
  await stop();
  await new Promise((r) => receiver.close(r));
  await fs.rm(dir, { recursive: true, force: true });
});

describe('hook writes are durable', { timeout: 60_000 }, () => {
  it('create, update and remove resolve only once the hook files are fsynced', async () => {
    const s = await start();
    const g = store!.hooks.fsync;
    const made = await s.create({ name: 'ci', events: ['lost'], kind: 'webhook', url, secret: SECRET });
    expect(await flushed(g)).toBe(true);
    await s.update(made.id, { name: 'ci2', events: ['lost'], kind: 'webhook', url });
    expect(await flushed(g)).toBe(true);
    await s.testFire(made.id);
    await s.remove(made.id);
    expect(await flushed(g)).toBe(true);
    expect(await flushed(store!.hookDeliveries.fsync)).toBe(true);
  });

  it("a delivery's record is fsynced before its first attempt reaches the receiver", async () => {
    const s = await start();
    const h = await s.create({ name: 'ci', events: ['lost'], kind: 'webhook', url, secret: SECRET });
    events!.emit('node.lost', { node_id: 7, mac: null, message: 'lost', data: { last_seen: null } });
    await until(h.id, (d) => d.some((x) => x.status === 'ok'));
    expect(received).toEqual([{ signed: true, recordSynced: true }]);
  });
});

describe('a hook URL or secret that no longer opens', { timeout: 60_000 }, () => {
  it('fails the delivery at once with the fix and an event, never sends it unsigned, and delivers once both are entered again', async () => {
    const made = await (await start()).create({ name: 'ci', events: ['lost'], kind: 'webhook', url, secret: SECRET });
    await stop();
    // The key file is replaced (e.g. the data dir was restored without it): a new key is made at the next start.
    await fs.rename(path.join(dir, KEY_FILE), path.join(dir, `${KEY_FILE}.aside`));
    const s = await start();

    events!.emit('node.lost', { node_id: 7, mac: null, message: 'lost', data: { last_seen: null } });
    // The attempt ends with a warning either way (logged after its record is written): then read the log.
    while (warned.length === 0) await new Promise((r) => setTimeout(r, 20));
    const [d] = await s.deliveries(made.id);
    expect(d).toMatchObject({ event: 'lost', node_id: 7, status: 'failed', attempts: 1, next_attempt_at: null });
    // The URL is opened first: without it there is nowhere to send.
    expect(d!.last_error).toContain('CC_ERR_HOOK_URL_UNREADABLE');
    expect(d!.last_error).toContain("Enter the hook's URL again");
    const failed = ofType(recorded, 'hook.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      node_id: 7,
      data: {
        hook_id: made.id,
        hook: 'ci',
        target: made.url,
        delivery_id: d!.id,
        event: 'lost',
        attempts: 1,
        code: 'CC_ERR_HOOK_URL_UNREADABLE',
      },
    });
    expect(failed[0]!.data.fix).toContain("Enter the hook's URL again");
    expect(eventProblems(failed[0]!)).toEqual([]);

    // The URL entered again: now the secret is what does not open, and the delivery is still not sent unsigned.
    await s.update(made.id, { name: 'ci', events: ['lost'], kind: 'webhook', url });
    // The same from the test button, answered with the failed attempt rather than an error.
    const fired = await s.testFire(made.id);
    expect(fired).toMatchObject({ event: 'test', status: 'failed', attempts: 1 });
    expect(fired.last_error).toContain('CC_ERR_HOOK_SECRET_UNREADABLE');
    expect(fired.last_error).toContain("Enter the hook's secret again");
    expect(ofType(recorded, 'hook.failed').at(-1)).toMatchObject({
      node_id: null,
      data: { delivery_id: fired.id, event: 'test', attempts: 1, code: 'CC_ERR_HOOK_SECRET_UNREADABLE' },
    });
    expect(received).toEqual([]);
    expect(warned.filter((w) => w.includes('hook delivery failed') && w.includes('_UNREADABLE'))).toHaveLength(2);
    expect(warned.join('\n')).not.toContain(SECRET);

    // The fix works: enter the secret again, and the hook delivers, signed.
    await s.update(made.id, { name: 'ci', events: ['lost'], kind: 'webhook', url, secret: SECRET });
    expect(await s.testFire(made.id)).toMatchObject({ status: 'ok', last_error: null });
    expect(received.map((r) => r.signed)).toEqual([true]);
  });
});

describe('a delivery that fails its last attempt', { timeout: 60_000 }, () => {
  it('records one hook.failed event with the hook, the delivery, the attempts and the error, never the URL secret', async () => {
    const s = await start();
    answer = 500;
    const token = 'PathTokenF41l9xQz';
    const h = await s.create({ name: 'ci', events: ['lost'], kind: 'webhook', url: `${url}/${token}?sig=QuerySig77ab`, secret: SECRET });
    events!.emit('node.lost', { node_id: 7, mac: null, message: 'lost', data: { last_seen: null } });
    const [d] = await until(h.id, (x) => x.some((y) => y.status === 'failed'));
    expect(d).toMatchObject({ status: 'failed', attempts: 3, last_error: 'HTTP 500' });
    expect(paths).toEqual(Array.from({ length: 3 }, () => `/hook/${token}?sig=QuerySig77ab`));
    // Retries record nothing; the last attempt records one event.
    const failed = ofType(recorded, 'hook.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      node_id: 7,
      data: {
        hook_id: h.id,
        hook: 'ci',
        target: h.url,
        delivery_id: d!.id,
        event: 'lost',
        attempts: 3,
        code: 'CC_ERR_HOOK_DELIVERY_FAILED',
        error: 'HTTP 500',
      },
    });
    expect(h.url).toBe(`${url}/…?…`);
    expect(failed[0]!.message).toContain('after 3 attempts');
    expect(eventProblems(failed[0]!)).toEqual([]);
    const line = JSON.stringify(failed[0]);
    for (const secret of [token, 'QuerySig77ab', SECRET]) expect(line).not.toContain(secret);
    // A delivery that succeeds records none.
    answer = 204;
    await s.testFire(h.id);
    expect(ofType(recorded, 'hook.failed')).toHaveLength(1);
  });
});

describe('a hook stored with a plain URL by an older version', { timeout: 60_000 }, () => {
  it('is sealed when the service starts, the plain URL is gone from the file, and it still delivers to it', async () => {
    const token = 'LegacyToken93kdPq';
    store = await openStore(dir, 0, 'hook-test');
    const legacy: HookDoc = {
      _id: 'a1b2c3d4e5f60708',
      name: 'old',
      events: ['lost'],
      kind: 'webhook',
      script: null,
      url: `${url}/${token}`,
      secret: null,
      created_at: new Date(0).toISOString(),
    };
    await store.hooks.insert(legacy, { durable: true });
    await store.close();
    store = null;
    const file = path.join(dir, 'db', 'hooks.db');
    expect(await fs.readFile(file, 'utf8')).toContain(token);

    const s = await start();
    expect(s.list()).toMatchObject([{ id: legacy._id, url: `${url}/…` }]);
    expect(await fs.readFile(file, 'utf8')).not.toContain(token);
    expect(await s.testFire(legacy._id)).toMatchObject({ status: 'ok' });
    expect(paths).toEqual([`/hook/${token}`]);

    // Sealed once: the next start reads it as it is.
    await stop();
    const again = await start();
    expect(again.list()).toMatchObject([{ id: legacy._id, url: `${url}/…` }]);
    expect(await again.testFire(legacy._id)).toMatchObject({ status: 'ok' });
    expect(paths).toEqual([`/hook/${token}`, `/hook/${token}`]);
    expect(await fs.readFile(file, 'utf8')).not.toContain(token);
  });
});
