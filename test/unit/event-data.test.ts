/**
 * Every event type the code emits has a row in contract/event-data.ts, and every row is emitted somewhere
 * (issue 11: typed event payloads). The compiler already refuses `emit('x', ...)` for a type without a
 * row; this reads the sources so a row nobody emits (a dead type the renderer would still show) fails too.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { EVENT_DATA } from '../../contract/event-data.ts';
import { EVENT_TYPES } from '../../contract/event-types.ts';
import { TRAFFIC_EVENT_TYPES } from '../../server/events/traffic-types.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * The calls that name an event type, and which argument holds it (`sourceEvent(source, type, e)`, `nodeEvent(id, type,
 * e)`; `record`: a budget's).
 */
const CALLS: Record<string, number> = { emit: 0, report: 0, record: 0, sourceEvent: 1, nodeEvent: 1 };
const DOTTED = /^[a-z0-9]+\.[a-z_]+$/;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The text of argument `n` of the call whose `(` is at `open`: brackets and quotes balanced, comments not expected there. */
function argument(text: string, open: number, n: number): string {
  let depth = 0;
  let arg = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      i = end < 0 ? text.length : end;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      depth--;
      if (depth === 0) return arg === n ? text.slice(start, i) : '';
    } else if (c === ',' && depth === 1) {
      if (arg === n) return text.slice(start, i);
      arg++;
      start = i + 1;
    }
  }
  return '';
}

/** Every dotted string literal passed as the event type of an emitting call, with where. */
function emittedTypes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of [...sources(path.join(ROOT, 'server')), ...sources(path.join(ROOT, 'agent'))]) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(emit|report|record|sourceEvent|nodeEvent)\(/g)) {
      const arg = argument(text, m.index + m[0].length - 1, CALLS[m[1]!]!);
      for (const lit of arg.matchAll(/'([^']*)'/g)) {
        if (!DOTTED.test(lit[1]!)) continue;
        const where = `${path.relative(ROOT, file)}:${text.slice(0, m.index).split('\n').length} ${m[1]}`;
        found.set(lit[1]!, [...(found.get(lit[1]!) ?? []), where]);
      }
    }
  }
  return found;
}

describe('event payload table', () => {
  const found = emittedTypes();

  it('finds the emitting calls (the scan itself works)', () => {
    expect(found.get('node.registered')).toEqual([expect.stringMatching(/^server\/nodes\/registration\.ts:\d+ emit$/)]);
    expect(found.get('dhcp.offer')?.length).toBeGreaterThanOrEqual(2);
    expect(found.size).toBeGreaterThan(50);
  });

  it('has a row for every type the server, agent and lab emit', () => {
    const rows = new Set(Object.keys(EVENT_DATA));
    const missing = [...found].filter(([t]) => !rows.has(t)).map(([t, at]) => `${t} (${at.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('has no row nobody emits, and one row per listed type', () => {
    expect(Object.keys(EVENT_DATA).sort()).toEqual([...EVENT_TYPES].sort());
    expect(EVENT_TYPES.filter((t) => !found.has(t))).toEqual([]);
  });

  it("lists as traffic every type recorded within a rack budget, so retention trims it before the operator's history", () => {
    // Recorded within a budget but history on purpose: the budgets' own summaries (what the operator must see of a
    // flood). A node's own events (`nodeEvent`, behind its token) are budgeted per node and may be either.
    const HISTORY_THOUGH_BUDGETED = new Set(['node.suppressed']);
    const budgeted = [...found]
      .filter(([, at]) => at.some((w) => / (record|sourceEvent|report)$/.test(w)))
      .map(([t]) => t)
      .filter((t) => !HISTORY_THOUGH_BUDGETED.has(t));
    expect(budgeted.length).toBeGreaterThan(10);
    expect(budgeted.filter((t) => !TRAFFIC_EVENT_TYPES.has(t))).toEqual([]);
    // Every traffic type is emitted somewhere (no stale entry in the list).
    expect([...TRAFFIC_EVENT_TYPES].filter((t) => !found.has(t))).toEqual([]);
    // And the operator's history is not traffic: what was decided, not what the rack sent.
    for (const t of [
      'node.registered',
      'node.bound',
      'node.stage',
      'node.suppressed',
      'dhcp.foreign_server',
      'dhcp.reservation',
      'policy.changed',
    ])
      expect(TRAFFIC_EVENT_TYPES.has(t), t).toBe(false);
    for (const t of ['dhcp.discover', 'dhcp.unsupported', 'tftp.error', 'http.transfer', 'node.boot'])
      expect(TRAFFIC_EVENT_TYPES.has(t), t).toBe(true);
  });

  it("writes the history a node's agent can repeat at will only within the node's budget (nodeEvent)", () => {
    // A token proves which node speaks, not how often: each of these is written again whenever the agent says so (a
    // check-in marked first, facts changed, a check-in during a running task, a refused BMC report). node.stage is
    // also emitted directly: a stage that moves the node is always recorded (hooks run on it).
    for (const t of ['node.checkin', 'node.facts_changed', 'node.task_started', 'node.task_progress', 'node.config_refused']) {
      expect(found.get(t), t).toBeDefined();
      expect(
        found.get(t)!.filter((w) => !w.endsWith(' nodeEvent')),
        t,
      ).toEqual([]);
    }
    expect(
      found
        .get('node.stage')!
        .map((w) => w.split(' ')[1])
        .sort(),
    ).toEqual(['emit', 'nodeEvent']);
    expect(found.get('bmc.enrolment')).toEqual(expect.arrayContaining([expect.stringMatching(/enrol-report\.ts:\d+ nodeEvent$/)]));
  });
});
