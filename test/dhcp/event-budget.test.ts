/**
 * The per-packet DHCP event budget (server/dhcp/event-budget.ts): the pure buckets, then a real handler on a real
 * event log, whose ring is what the UI and the file get, and whose `unrecorded` listeners are what the appliance
 * acts on (the chain recorder, proxy-mode router advertisements).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUDGET, EventBudget, SUMMARY_EVERY_MS } from '../../server/events/event-budget.ts';
import type { CcEvent } from '../../contract/index.ts';
import { TestHooks, clientPacket, tempStore, testHandler } from './helpers.ts';

describe('the buckets', () => {
  const T0 = 1_000_000;

  it("pass a minute's allowance as a burst, trip once, then count; refill at the rate", () => {
    const b = new EventBudget();
    for (let i = 0; i < 10; i++) expect(b.take(false, 10, T0)).toBe(BUDGET.PASS);
    expect(b.take(false, 10, T0)).toBe(BUDGET.TRIPPED);
    expect(b.counted(false)).toBe(1);
    for (let i = 0; i < 5; i++) expect(b.take(false, 10, T0 + i)).toBe(BUDGET.DROP);
    expect(b.counted(false)).toBe(6);
    // 10 a minute: one token every 6 s, below half a bucket, so the flood is not over.
    expect(b.take(false, 10, T0 + 6_000)).toBe(BUDGET.PASS);
    expect(b.take(false, 10, T0 + 6_001)).toBe(BUDGET.DROP);
  });

  it('keep the nodes and everyone else apart', () => {
    const b = new EventBudget();
    for (let i = 0; i < 3; i++) b.take(false, 3, T0);
    expect(b.take(false, 3, T0)).toBe(BUDGET.TRIPPED);
    for (let i = 0; i < 3; i++) expect(b.take(true, 3, T0)).toBe(BUDGET.PASS);
    expect(b.take(true, 3, T0)).toBe(BUDGET.TRIPPED);
    expect([b.counted(true), b.counted(false)]).toEqual([1, 1]);
  });

  it('say "still" once a minute while a flood lasts, and recover once half a minute of allowance is back', () => {
    const b = new EventBudget();
    for (let i = 0; i < 60; i++) b.take(false, 60, T0);
    expect(b.take(false, 60, T0)).toBe(BUDGET.TRIPPED);
    // A flood: a packet every 10 ms takes every token as it comes back.
    let t = T0;
    const seen = new Set<number>();
    let stillAt = -1;
    while (t < T0 + SUMMARY_EVERY_MS + 1_000) {
      t += 10;
      const d = b.take(false, 60, t);
      seen.add(d);
      if (d === BUDGET.STILL && stillAt < 0) stillAt = t;
    }
    expect(seen.has(BUDGET.RECOVERED)).toBe(false);
    expect(stillAt).toBeGreaterThanOrEqual(T0 + SUMMARY_EVERY_MS);
    expect(stillAt).toBeLessThan(T0 + SUMMARY_EVERY_MS + 20);
    b.resetCount(false);
    // Quiet for 40 s: 40 tokens back, more than half the bucket.
    expect(b.take(false, 60, t + 40_000)).toBe(BUDGET.RECOVERED);
    expect(b.take(false, 60, t + 40_001)).toBe(BUDGET.PASS);
  });

  it('pass everything at 0, and a tripped bucket recovers when the limit is lifted', () => {
    const b = new EventBudget();
    for (let i = 0; i < 1000; i++) expect(b.take(true, 0, T0)).toBe(BUDGET.PASS);
    b.take(false, 1, T0);
    expect(b.take(false, 1, T0)).toBe(BUDGET.TRIPPED);
    expect(b.take(false, 0, T0)).toBe(BUDGET.RECOVERED);
    expect(b.counted(false)).toBe(1);
    expect(b.take(false, 0, T0)).toBe(BUDGET.PASS);
  });

  it('never hold more than a minute of allowance, however long the quiet', () => {
    const b = new EventBudget();
    b.take(false, 5, T0);
    let passed = 0;
    for (let i = 0; i < 20; i++) if (b.take(false, 5, T0 + 3_600_000) === BUDGET.PASS) passed++;
    expect(passed).toBe(5);
  });
});

describe('a handler over its budget', () => {
  let ts: Awaited<ReturnType<typeof tempStore>>;
  let clock: number;
  beforeEach(async () => {
    ts = await tempStore();
    clock = 1_700_000_000_000;
  });
  afterEach(async () => ts.cleanup());

  /** `n` DISCOVERs from distinct plain clients. */
  async function discovers(h: ReturnType<typeof testHandler>, n: number, first = 0): Promise<number> {
    let offers = 0;
    for (let i = first; i < first + n; i++) {
      const mac = `06:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
      offers += (await h.handle(clientPacket({ mac, xid: i + 1, options: [[53, [1]]] }), { address: '0.0.0.0', port: 68 }, false)).length;
    }
    return offers;
  }

  it('records the budget, publishes the rest to the unrecorded listeners only, and says so in node.suppressed', async () => {
    const recorded: CcEvent[] = [];
    const acted: CcEvent[] = [];
    ts.events.subscribe((e) => void recorded.push(e));
    ts.events.subscribe((e) => void acted.push(e), { unrecorded: true });
    const limit = { perMin: 6 };
    const h = testHandler({ events: ts.events, hooks: new TestHooks(), eventLimit: limit, now: () => clock });
    // Four addresses in the test pool: four OFFERs, then DISCOVERs that get none.
    expect(await discovers(h, 8)).toBe(4);
    const dhcp = (l: CcEvent[]) => l.filter((e) => e.type.startsWith('dhcp.'));
    expect(dhcp(recorded)).toHaveLength(6);
    // 8 DISCOVERs and 4 OFFERs: every one reached the listeners the appliance acts on; the unrecorded ones with seq 0.
    expect(dhcp(acted)).toHaveLength(12);
    expect(dhcp(acted).filter((e) => e.seq === 0)).toHaveLength(6);
    expect(h.stats.events_unrecorded).toBe(6);
    const ring = await ts.events.query({ type: 'dhcp.' });
    expect(ring).toHaveLength(6);
    const sup = await ts.events.query({ type: 'node.suppressed' });
    expect(sup.map((e) => e.data)).toEqual([{ kind: 'dhcp_events', source: 'dhcp', tripped: true }]);
    expect(sup[0]!.message).toContain('dhcp_events_per_min');
    // The limit lifted: the next packet records the summary with the count, then itself.
    limit.perMin = 0;
    clock += 1;
    await discovers(h, 1, 8);
    const over = (await ts.events.query({ type: 'node.suppressed' }))[0]!;
    expect(over.data).toEqual({ kind: 'dhcp_events', source: 'dhcp', dropped: 6, tripped: false });
    expect((await ts.events.query({ type: 'dhcp.discover' }))[0]!.mac).toBe('06:00:00:00:00:08');
  });

  it('holds dhcp.unsupported within it: one per MAC is no bound when MACs are forged', async () => {
    const acted: CcEvent[] = [];
    ts.events.subscribe((e) => void acted.push(e), { unrecorded: true });
    // Proxy mode: no address pool to run out of, every DISCOVER is looked at for a boot file.
    const h = testHandler({ mode: 'proxy', events: ts.events, hooks: new TestHooks(), eventLimit: { perMin: 4 }, now: () => clock });
    // PXE firmware of an architecture nothing is served to (option 93 = 99), from 12 forged MACs.
    for (let i = 0; i < 12; i++) {
      const mac = `06:00:00:00:01:${i.toString(16).padStart(2, '0')}`;
      const options: [number, number[] | string][] = [
        [53, [1]],
        [60, 'PXEClient:Arch:00099:UNDI:003000'],
        [93, [0, 99]],
      ];
      await h.handle(clientPacket({ mac, xid: 500 + i, options }), { address: '0.0.0.0', port: 68 }, false);
    }
    expect(acted.filter((e) => e.type === 'dhcp.unsupported')).toHaveLength(12);
    expect((await ts.events.query({ type: 'dhcp.' })).length).toBe(4);
    const unrecorded = acted.filter((e) => e.type.startsWith('dhcp.') && e.seq === 0).length;
    expect(unrecorded).toBe(h.stats.events_unrecorded);
    expect(unrecorded).toBe(12 - 4); // proxy mode answers nothing here: the 12 events are the unsupported ones
    expect(h.stats.unknown_arch).toBe(12);
  });

  it('keeps recording the packets of known nodes while strangers flood', async () => {
    const hooks = new TestHooks();
    const NODE_MAC = '52:54:00:00:00:01';
    hooks.ids.set(NODE_MAC, 7);
    const h = testHandler({ events: ts.events, hooks, eventLimit: { perMin: 4 }, now: () => clock });
    await discovers(h, 10);
    await h.handle(clientPacket({ mac: NODE_MAC, xid: 99, options: [[53, [1]]] }), { address: '0.0.0.0', port: 68 }, false);
    const ofNode = (await ts.events.query({ node_id: 7 })).filter((e) => e.type === 'dhcp.discover');
    expect(ofNode).toHaveLength(1);
  });
});
