/**
 * The event log on its own file: the in-memory ring answers queries and SSE resumes, batches reach
 * the file, a reopen continues the sequence, trimming keeps the newest events (written in pieces, so a trim of
 * 200,000 lines does not stall the loop), a torn tail is cut, and
 * the first open takes over an older version's nedb datafile.
 */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EventLog, SCRATCH_CHUNK_BYTES } from '../../server/events/event-log.ts';
import { EventRing } from '../../server/events/event-ring.ts';
import { LINES_PER_WRITE } from '../../server/store/durable-file.ts';
import { ofType } from '../support/events.ts';

let dir: string;
const file = () => path.join(dir, 'events.log');
const legacy = () => path.join(dir, 'events.db');
const lines = async () => (await fs.readFile(file(), 'utf8')).split('\n').filter(Boolean);

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-events-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe('EventRing', () => {
  it('keeps the newest `capacity` events and filters by node, type prefix and position', () => {
    const r = new EventRing(5);
    for (let s = 1; s <= 8; s++) {
      const type = s % 2 ? 'dhcp.ack' : 'node.boot';
      r.push(s, s % 3 === 0 ? 7 : null, type, JSON.stringify({ seq: s, type, node_id: s % 3 === 0 ? 7 : null }));
    }
    expect(r.size).toBe(5);
    expect(r.lastSeq()).toBe(8);
    expect(r.since(0, 100).map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(r.since(6, 100).map((e) => e.seq)).toEqual([7, 8]);
    expect(r.since(5, 1).map((e) => e.seq)).toEqual([6]);
    expect(r.query({}).map((e) => e.seq)).toEqual([8, 7, 6, 5, 4]);
    expect(r.query({ type: 'dhcp.' }).map((e) => e.seq)).toEqual([7, 5]);
    expect(r.query({ node_id: 7 }).map((e) => e.seq)).toEqual([6]);
    expect(r.query({ before: 6, limit: 1 }).map((e) => e.seq)).toEqual([5]);
    // The lines as the file gets them: views of the arena, newline-terminated, oldest first.
    const text = Buffer.concat(r.bytes(0, r.size)).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([4, 5, 6, 7, 8]);
    expect(
      Buffer.concat(r.bytes(3, 5))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([7, 8]);
  });
});

describe('EventRing arena', () => {
  const ev = (seq: number, text: string) => JSON.stringify({ seq, type: 'node.found', node_id: null, message: text });
  it('drops arena chunks once their lines fall out, so a long run stays bounded', () => {
    const r = new EventRing(100);
    const pad = 'x'.repeat(500);
    for (let s = 1; s <= 20_000; s++) r.push(s, null, 'node.found', ev(s, pad)); // about 10 MB of lines
    expect(r.size).toBe(100);
    expect(r.arenaBytes).toBeLessThanOrEqual(2 * 4 * 1024 * 1024);
    expect(r.since(19_998, 10).map((e) => e.seq)).toEqual([19_999, 20_000]);
  });
  it('with small chunks (the warm start scratch log): lines span many chunks, batches across them stay exact, old chunks go', () => {
    const r = new EventRing(1_000, SCRATCH_CHUNK_BYTES);
    const pad = 'z'.repeat(250);
    for (let s = 1; s <= 3_000; s++) r.push(s, null, 'node.found', ev(s, pad));
    // 1,000 lines of about 320 bytes held in 16 KiB chunks: about 20, and the 40 before them freed.
    expect(r.arenaBytes).toBeGreaterThan(1_000 * 300);
    expect(r.arenaBytes).toBeLessThan(1_000 * 340 + 2 * SCRATCH_CHUNK_BYTES);
    const views = r.bytes(0, r.size);
    expect(views.length).toBeGreaterThan(15); // one view per chunk the run crosses
    const seqs = Buffer.concat(views)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: 1_000 }, (_, i) => 2_001 + i));
  });
  it('the scratch log uses small chunks, so a warm start fills, starts and frees them as a real burst does', () => {
    const log = EventLog.scratch(1_000);
    for (let i = 0; i < 3_000; i++) log.emit('node.found', { node_id: null, message: 'm'.repeat(200), data: {} });
    const ring = (log as unknown as { ring: EventRing }).ring;
    expect(ring.size).toBe(1_000);
    // With the real 4 MiB chunks this would be one chunk of 4 MiB.
    expect(ring.arenaBytes).toBeLessThan(1024 * 1024);
  });
  it('keeps multi-byte text exactly, gives a line longer than a chunk its own, and views outlive eviction', () => {
    const r = new EventRing(3);
    const text = 'é ✓ 𝄞 \u2028 "quoted"';
    r.push(1, 4, 'node.found', ev(1, text));
    const views = r.bytes(0, 1);
    const huge = 'y'.repeat(5 * 1024 * 1024);
    r.push(2, null, 'node.found', ev(2, huge));
    r.push(3, null, 'node.found', ev(3, text));
    expect(r.since(0, 10).map((e) => e.message)).toEqual([text, huge, text]);
    expect(r.query({ node_id: 4 }).map((e) => e.seq)).toEqual([1]);
    for (let s = 4; s <= 10; s++) r.push(s, null, 'node.found', ev(s, 'z'));
    expect(r.since(0, 10).map((e) => e.seq)).toEqual([8, 9, 10]);
    // The chunk with seq 1 left the ring, and the view taken earlier still reads it.
    expect(JSON.parse(Buffer.concat(views).toString('utf8')).message).toBe(text);
  });
});

describe('EventLog', () => {
  it('publishes at once, writes in batches, and a reopen continues the sequence with the history', async () => {
    const log = await EventLog.open(file(), legacy(), 1000);
    const live: number[] = [];
    log.subscribe((e) => live.push(e.seq));
    for (let i = 0; i < 50; i++)
      log.emit('node.stage', {
        node_id: i % 5,
        mac: '02:00:00:00:00:01',
        message: `stage ${i}`,
        data: { stage: String(i), from: 'a.b', to: 'x' },
      });
    expect(live).toHaveLength(50);
    expect(ofType(await log.query({ node_id: 3 }), 'node.stage').map((e) => Number(e.data.stage))).toEqual([
      48, 43, 38, 33, 28, 23, 18, 13, 8, 3,
    ]);
    await log.close();
    expect(await lines()).toHaveLength(50);
    const again = await EventLog.open(file(), legacy(), 1000);
    expect(again.lastSeq).toBe(50);
    expect(again.emit('node.found', { message: 'next', data: {} }).seq).toBe(51);
    expect((await again.since(48)).map((e) => [e.seq, e.type])).toEqual([
      [49, 'node.stage'],
      [50, 'node.stage'],
      [51, 'node.found'],
    ]);
    expect((await again.since(0))[0]!.data).toEqual({ stage: '0', from: 'a.b', to: 'x' });
    await again.close();
  });

  it('a burst past a full batch schedules its write once, not once per event, and loses nothing', async () => {
    // 4,096 pending lines make the write due at once; every event of the burst after that used to replace that timer
    // with a new one (a clearTimeout, a setTimeout and about 0.8 KB per DHCP exchange at 25,000 exchanges a second).
    const log = await EventLog.open(file(), legacy(), 20_000);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      for (let i = 0; i < 12_000; i++) log.emit('node.found', { message: `m${i}`, data: {} });
      // The batch window's timer, then the immediate one at 4,096: two in all, whatever the burst's length.
      expect(timers).toHaveBeenCalledTimes(2);
    } finally {
      timers.mockRestore();
    }
    await log.close();
    expect(await lines()).toHaveLength(12_000);
  });

  it('trims the file to the retention once it grows past it, keeping the newest (traffic: history is kept apart, below)', async () => {
    const log = await EventLog.open(file(), legacy(), 100);
    for (let i = 0; i < 250; i++) log.emit('node.token_refused', { message: `t ${i}`, data: { ip: '10.0.0.9', reason: 'r' } });
    await log.flushNow();
    const kept = await lines();
    expect(kept.length).toBeLessThanOrEqual(110);
    expect(JSON.parse(kept.at(-1)!).seq).toBe(250);
    expect((await log.since(0)).map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 151 + i));
    await log.close();
    const again = await EventLog.open(file(), legacy(), 100);
    expect((await again.since(0))[0]!.seq).toBe(151);
    await again.close();
  });

  it("keeps the operator's history through a flood of traffic, across trims and a reopen; the file stays in seq order", async () => {
    // Retention 100, history 25 (a quarter). Traffic: what the rack causes at will (traffic-types.ts).
    const log = await EventLog.open(file(), legacy(), 100);
    const traffic = (n: number) => {
      for (let i = 0; i < n; i++) log.emit('node.token_refused', { message: 'refused', data: { ip: '10.0.0.9', reason: 'flood' } });
    };
    const history = (i: number) => log.emit('node.found', { node_id: i % 3, message: `found ${i}`, data: {} }).seq;
    const kept: number[] = [];
    for (let i = 0; i < 10; i++) kept.push(history(i));
    traffic(1000); // ten times the retention: several trims
    await log.flushNow();
    const found = async (l: EventLog) => (await l.query({ type: 'node.found', limit: 1000 })).map((e) => e.seq).reverse();
    expect(await found(log)).toEqual(kept);
    // Newest first: the ring's traffic, then the history older than it; by node too.
    const page = await log.query({ limit: 1000 });
    expect(page).toHaveLength(110);
    expect(page.slice(100).map((e) => e.seq)).toEqual([...kept].reverse());
    expect((await log.query({ node_id: 1 })).map((e) => e.message)).toEqual(['found 7', 'found 4', 'found 1']);
    // Oldest first after a seq (an SSE resume): the older history, then the ring, no gaps in what is kept.
    const all = (await log.since(0, 10_000)).map((e) => e.seq);
    expect(all.slice(0, 10)).toEqual(kept);
    expect(all.slice(10)).toEqual(Array.from({ length: 100 }, (_, i) => 911 + i));
    expect((await log.since(5, 3)).map((e) => e.seq)).toEqual([6, 7, 8]);
    expect((await log.since(9, 2)).map((e) => e.seq)).toEqual([10, 911]);
    // The file: the same events, in seq order, no longer than the two retentions and a trim's margin.
    const seqs = (await lines()).map((l) => JSON.parse(l).seq as number);
    expect(seqs.slice(0, 10)).toEqual(kept);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.length).toBeLessThanOrEqual(10 + 110);
    await log.close();
    const again = await EventLog.open(file(), legacy(), 100);
    expect(await found(again)).toEqual(kept);
    expect((await again.since(0, 10_000)).map((e) => e.seq)).toEqual(all);
    await again.close();
  });

  it('keeps the newest history events past its own retention, and trims traffic, not history, first', async () => {
    const log = await EventLog.open(file(), legacy(), 100, undefined, 25);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 10; i++) log.emit('node.found', { message: `found ${round}.${i}`, data: {} });
      for (let i = 0; i < 300; i++) log.emit('node.token_refused', { message: 'refused', data: { ip: '10.0.0.9', reason: 'flood' } });
    }
    await log.flushNow();
    const found = (await log.query({ type: 'node.found', limit: 1000 })).map((e) => e.message);
    expect(found).toHaveLength(25);
    expect(found[0]).toBe('found 3.9');
    expect(found.at(-1)).toBe('found 1.5');
    // The positive control: traffic alone keeps only the newest `retention`.
    expect((await log.query({ type: 'node.token_refused', limit: 1000 })).length).toBe(100);
    await log.close();
  });

  it('trims a large log in pieces, letting the event loop run between them (no stall of DHCP, TFTP, HTTP)', async () => {
    const retention = LINES_PER_WRITE * 3;
    const log = await EventLog.open(file(), legacy(), retention);
    for (let i = 0; i < retention; i++) log.emit('node.token_refused', { message: `t ${i}`, data: { ip: '10.0.0.9', reason: 'r' } });
    await log.flushNow();
    // Every write of the trim's temp file records how many turns of the event loop had run by then.
    const h = await fs.open(file(), 'r');
    const proto = Object.getPrototypeOf(h) as { writev: (...a: unknown[]) => Promise<unknown> };
    await h.close();
    const writev = proto.writev;
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    tick();
    const seen: { turns: number; lines: number }[] = [];
    const spy = vi.spyOn(proto, 'writev').mockImplementation(function (this: unknown, ...a: unknown[]) {
      seen.push({
        turns,
        lines:
          Buffer.concat(a[0] as Buffer[])
            .toString('utf8')
            .split('\n').length - 1,
      });
      return Reflect.apply(writev, this, a) as Promise<unknown>;
    });
    for (let i = 0; i < retention * 0.2; i++) log.emit('node.token_refused', { message: `u ${i}`, data: { ip: '10.0.0.9', reason: 'r' } });
    try {
      await log.flushNow();
    } finally {
      spy.mockRestore();
      ticking = false;
    }
    const kept = await lines();
    expect(kept).toHaveLength(retention);
    expect(JSON.parse(kept.at(-1)!).seq).toBe(retention * 1.2);
    // The batch's append, then the trim's three pieces into the temp file.
    expect(seen.map((w) => w.lines)).toEqual([retention * 0.2, LINES_PER_WRITE, LINES_PER_WRITE, LINES_PER_WRITE]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.turns).toBeGreaterThan(seen[i - 1]!.turns);
    await log.close();
  });

  it('cuts a torn last line (a SIGKILL mid-append) and reports it', async () => {
    const log = await EventLog.open(file(), legacy(), 100);
    log.emit('node.found', { message: 'one', data: {} });
    log.emit('node.found', { message: 'two', data: {} });
    await log.close();
    await fs.appendFile(file(), '{"seq":3,"ts":"2026-01-01T00:00:00.000Z","type":"node.bo');
    const again = await EventLog.open(file(), legacy(), 100);
    expect(again.repaired?.cutBytes).toBeGreaterThan(0);
    expect(again.lastSeq).toBe(2);
    again.emit('node.found', { message: 'three', data: {} });
    await again.close();
    expect((await lines()).map((l) => JSON.parse(l).message)).toEqual(['one', 'two', 'three']);
  });

  it("takes over an older version's nedb datafile (data stored as JSON text, deletions honoured) and removes it", async () => {
    const doc = (seq: number, node: number | null) =>
      JSON.stringify({
        _id: String(seq).padStart(12, '0'),
        seq,
        ts: '2026-11-01T00:00:00.000Z',
        type: 'node.registered',
        node_id: node,
        mac: null,
        message: `m${seq}`,
        data: JSON.stringify({ seq, 'x.y': true }),
      });
    await fs.writeFile(
      legacy(),
      [
        JSON.stringify({ $$indexCreated: { fieldName: 'seq', unique: true } }),
        doc(1, 4),
        doc(2, null),
        doc(3, 4),
        JSON.stringify({ $$deleted: true, _id: '000000000001' }),
        '{"_id":"00000000000',
      ].join('\n'),
    );
    const log = await EventLog.open(file(), legacy(), 100);
    expect(log.lastSeq).toBe(3);
    expect((await log.since(0)).map((e) => [e.seq, e.data])).toEqual([
      [2, { seq: 2, 'x.y': true }],
      [3, { seq: 3, 'x.y': true }],
    ]);
    expect((await log.query({ node_id: 4 })).map((e) => e.seq)).toEqual([3]);
    await expect(fs.stat(legacy())).rejects.toThrow();
    await log.close();
  });
});
