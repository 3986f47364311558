/**
 * The hook service on a real store and event log (no appliance): hook definitions are on disk (fsync'ed) when
 * create, update and remove resolve, and a delivery's record is fsync'ed before its first attempt reaches the
 * receiver (checked with the files' group commit: a sync right after finds nothing left to flush). A webhook
 * whose sealed secret no longer opens (the key file was replaced) fails its deliveries visibly, with the fix,
 * and never sends them unsigned; entering the secret again makes it deliver.
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

const SECRET = 'store-test-secret-' + 's'.repeat(20);

let dir: string;
let store: Store | null;
let events: EventLog | null;
let hooks: HookService | null;
let receiver: http.Server;
let url: string;
/** What the receiver saw: the signature header, and whether the delivery file had unsynced writes at that moment. */
let received: { signed: boolean; recordSynced: boolean }[];
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
  warned.length = 0;
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // Called while the attempt waits for our answer: the record written before it must already be on disk.
      void flushed(store!.hookDeliveries.fsync).then((recordSynced) => {
        received.push({ signed: typeof req.headers['x-crashcart-signature'] === 'string', recordSynced });
        res.writeHead(204).end();
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

describe('a hook secret that no longer opens', { timeout: 60_000 }, () => {
  it('fails the delivery at once with the fix, never sends it unsigned, and delivers once the secret is entered again', async () => {
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
    expect(d!.last_error).toContain('CC_ERR_HOOK_SECRET_UNREADABLE');
    expect(d!.last_error).toContain("Enter the hook's secret again");
    // The same from the test button, answered with the failed attempt rather than an error.
    const fired = await s.testFire(made.id);
    expect(fired).toMatchObject({ event: 'test', status: 'failed', attempts: 1 });
    expect(fired.last_error).toContain('CC_ERR_HOOK_SECRET_UNREADABLE');
    expect(received).toEqual([]);
    expect(warned.filter((w) => w.includes('hook delivery failed') && w.includes('CC_ERR_HOOK_SECRET_UNREADABLE'))).toHaveLength(2);
    expect(warned.join('\n')).not.toContain(SECRET);

    // The fix works: enter the secret again, and the hook delivers, signed.
    await s.update(made.id, { name: 'ci', events: ['lost'], kind: 'webhook', url, secret: SECRET });
    expect(await s.testFire(made.id)).toMatchObject({ status: 'ok', last_error: null });
    expect(received.map((r) => r.signed)).toEqual([true]);
  });
});
