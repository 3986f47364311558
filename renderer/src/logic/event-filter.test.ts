// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import { EVENT_TYPE_LIST, eventLevel, eventMatches, eventQuery } from './event-filter.ts';

const ev = (type: string, node_id: number | null, message = type): CcEvent =>
  ({
    seq: 1,
    ts: '2026-01-01T00:00:00Z',
    type,
    node_id,
    mac: '52:54:00:00:00:01',
    message,
    data: { file: 'undionly.kpxe' },
  }) as CcEvent; // a fixture: only the fields the filter reads

describe('event filter', () => {
  it('filters by type prefix, node and text (message, MAC, data)', () => {
    const f = { type: 'tftp.', nodeId: '', text: '' };
    expect(eventMatches(ev('tftp.error', 3), f)).toBe(true);
    expect(eventMatches(ev('dhcp.ack', 3), f)).toBe(false);
    expect(eventMatches(ev('dhcp.ack', 3), { type: '', nodeId: '3', text: '' })).toBe(true);
    expect(eventMatches(ev('dhcp.ack', 4), { type: '', nodeId: '3', text: '' })).toBe(false);
    expect(eventMatches(ev('dhcp.ack', 4), { type: '', nodeId: '', text: 'UNDIONLY' })).toBe(true);
    expect(eventMatches(ev('dhcp.ack', 4), { type: '', nodeId: '', text: '52:54:00' })).toBe(true);
  });
  it('sends exact types and node to the server, keeps prefixes local', () => {
    expect(eventQuery({ type: 'node.bound', nodeId: '7', text: 'x' }, 500, 42)).toEqual({
      limit: 500,
      node_id: 7,
      type: 'node.bound',
      before: 42,
    });
    expect(eventQuery({ type: 'dhcp.', nodeId: '', text: '' }, 100)).toEqual({ limit: 100 });
  });
  it('grades severity and lists every contract event type', () => {
    expect([eventLevel(ev('tftp.error', 1)), eventLevel(ev('node.lost', 1)), eventLevel(ev('node.bound', 1))]).toEqual([
      'error',
      'warn',
      'info',
    ]);
    // A hook delivery that failed for good is an error line, and the picker offers its type.
    expect(eventLevel(ev('hook.failed', null))).toBe('error');
    expect(EVENT_TYPE_LIST).toContain('hook.failed');
    expect(EVENT_TYPE_LIST).toContain('node.discovered');
    expect(new Set(EVENT_TYPE_LIST).size).toBe(EVENT_TYPE_LIST.length);
  });
});
