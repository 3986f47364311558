/**
 * Event budgets over all sources (server/events/budgeted-events.ts) as the node plane's guard uses them
 * (server/nodes/node-guard.ts): many addresses, each within its own budget, stay under the ceiling; a known
 * node's events have their own bucket; every event is recorded or counted; the summaries match the contract.
 */
import { describe, expect, it } from 'vitest';
import type { CcEvent, EventType } from '../../contract/index.ts';
import { BudgetedEvents } from '../../server/events/budgeted-events.ts';
import { BUDGET, suppressedEvent, type BudgetNames } from '../../server/events/event-budget.ts';
import type { EventInput } from '../../server/events/event-log.ts';
import { NodeGuard } from '../../server/nodes/node-guard.ts';
import type { Settings } from '../../server/settings/settings-service.ts';
import { makeEvent } from '../support/events.ts';

/** A sink that keeps what is recorded and what is only published, each checked against its contract row. */
function sink() {
  const recorded: CcEvent[] = [];
  const published: CcEvent[] = [];
  return {
    recorded,
    published,
    emit<T extends EventType>(type: T, e: EventInput<T>): CcEvent {
      const ev = makeEvent(type, recorded.length + 1, e);
      recorded.push(ev);
      return ev;
    },
    publish<T extends EventType>(type: T, e: EventInput<T>): void {
      published.push(makeEvent(type, 0, e));
    },
  };
}

const refused = (ip: string, node: number | null) => ({ node_id: node, message: `token refused from ${ip}`, data: { ip, reason: 'test' } });

function guard(limits: Partial<Settings>, clock: { t: number }) {
  const s = sink();
  const settings = { node_events_per_source_per_min: 120, node_events_per_min: 10, ...limits } as Settings;
  const g = new NodeGuard({ settings: () => settings, events: s, exempt: () => false, unregistered: () => 0, now: () => clock.t });
  return { s, g, settings };
}

describe('the node plane ceiling over all sources', () => {
  it('holds 200 addresses of one event each to its budget, and a known node keeps its own bucket', () => {
    const clock = { t: 1_000_000 };
    const { s, g } = guard({}, clock);
    for (let i = 0; i < 200; i++) g.sourceEvent(`10.0.${i >> 8}.${i & 255}`, 'node.token_refused', refused(`10.0.0.${i}`, null));
    const refusedRecorded = s.recorded.filter((e) => e.type === 'node.token_refused');
    expect(refusedRecorded).toHaveLength(10);
    expect(s.published.filter((e) => e.type === 'node.token_refused')).toHaveLength(190);
    expect(s.recorded.filter((e) => e.type === 'node.suppressed').map((e) => e.data)).toEqual([
      { kind: 'node_events', source: 'node-plane', tripped: true },
    ]);
    // A known node's event meanwhile: recorded.
    g.sourceEvent('10.1.0.1', 'node.token_refused', refused('10.1.0.1', 7));
    expect(s.recorded.at(-1)).toMatchObject({ type: 'node.token_refused', node_id: 7 });
    // More than half a bucket refilled (40 s at 10 a minute): the flood is over, the summary counts all 190.
    clock.t += 40_000;
    g.sourceEvent('10.2.0.1', 'node.token_refused', refused('10.2.0.1', null));
    const over = s.recorded.filter((e) => e.type === 'node.suppressed').at(-1)!;
    expect(over.data).toEqual({ kind: 'node_events', source: 'node-plane', dropped: 190, tripped: false });
    expect(s.recorded.at(-1)).toMatchObject({ type: 'node.token_refused', data: { ip: '10.2.0.1' } });
  });

  it("keeps the per-source limits' own summaries under it: a source tripping is an event too", () => {
    const clock = { t: 1_000_000 };
    const { s, g } = guard({ node_events_per_source_per_min: 1, node_events_per_min: 20 }, clock);
    // 100 sources, two events each: each second one trips its source's limit.
    for (let i = 0; i < 100; i++)
      for (let k = 0; k < 2; k++) g.sourceEvent(`10.3.0.${i}`, 'node.token_refused', refused(`10.3.0.${i}`, null));
    expect(s.recorded.length).toBeLessThanOrEqual(20 + 1); // the budget and its one summary
    const perSource = [...s.recorded, ...s.published].filter((e) => e.type === 'node.suppressed' && e.data.kind === 'events');
    expect(perSource).toHaveLength(100); // every source's trip was seen live...
    expect(s.recorded.filter((e) => e.type === 'node.suppressed' && e.data.kind === 'events').length).toBeLessThan(20); // ...few recorded
  });

  it('is lifted by 0, as every node-plane limit is', () => {
    const clock = { t: 1_000_000 };
    const { s, g } = guard({ node_events_per_min: 0 }, clock);
    for (let i = 0; i < 300; i++) g.sourceEvent(`10.4.${i >> 8}.${i & 255}`, 'node.token_refused', refused('x', null));
    expect(s.recorded).toHaveLength(300);
    expect(s.published).toHaveLength(0);
  });
});

describe('BudgetedEvents', () => {
  const names: BudgetNames = {
    kind: 'tftp_events',
    noun: 'TFTP transfer events',
    sources: ['tftp-nodes', 'tftp'],
    setting: 'tftp_events_per_min',
  };

  it('counts what it does not record, with or without a sink that publishes', () => {
    let counted = 0;
    const only = { emit: sink().emit };
    const b = new BudgetedEvents({ sink: only, names, perMin: () => 2, now: () => 0, counted: () => counted++ });
    for (let i = 0; i < 7; i++) b.record('node.token_refused', refused('10.5.0.1', null));
    expect(counted).toBe(5);
    expect(b.counted(false)).toBe(5);
    expect(b.counted(true)).toBe(0);
  });

  it('words each summary for its budget and setting, within the contract', () => {
    const tripped = suppressedEvent(names, BUDGET.TRIPPED, true, 50, 1);
    expect(tripped.message).toBe(
      'Limit reached: more than 50 TFTP transfer events per minute from known nodes; the rest are counted, not recorded (setting tftp_events_per_min)',
    );
    expect(tripped.data).toEqual({ kind: 'tftp_events', source: 'tftp-nodes', tripped: true });
    expect(suppressedEvent(names, BUDGET.STILL, false, 50, 9).message).toContain('9 TFTP transfer events from machines that are not nodes');
    expect(suppressedEvent(names, BUDGET.RECOVERED, false, 50, 9).data).toEqual({
      kind: 'tftp_events',
      source: 'tftp',
      dropped: 9,
      tripped: false,
    });
    for (const d of [BUDGET.TRIPPED, BUDGET.STILL, BUDGET.RECOVERED])
      makeEvent('node.suppressed', 1, suppressedEvent(names, d, false, 1, 1));
  });
});
