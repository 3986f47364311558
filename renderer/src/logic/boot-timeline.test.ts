// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import { HINTS, buildTimeline } from './boot-timeline.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;
const ev = (type: string, s: number, data: Record<string, unknown> = {}, message = type): CcEvent =>
  ({
    seq: ++seq,
    ts: new Date(t0 + s * 1000).toISOString(),
    type,
    node_id: 1,
    mac: '52:54:00:00:00:01',
    message,
    data,
  }) as CcEvent; // a fixture: only the fields the timeline reads

describe('boot timeline', () => {
  it('orders events, keeps sizes and merges check-ins', () => {
    const events = [
      ev('dhcp.discover', 0),
      ev('dhcp.offer', 1),
      ev('tftp.finish', 2, { file: 'undionly.kpxe', bytes: 70_000 }),
      ev('node.boot', 3),
      ev('node.registered', 20),
      ev('node.checkin', 50),
      ev('node.checkin', 80),
      ev('node.checkin', 110),
    ];
    const steps = buildTimeline([...events].reverse(), t0 + 120_000);
    expect(steps.map((s) => s.phase)).toEqual(['dhcp', 'dhcp', 'tftp', 'kernel', 'agent', 'agent']);
    expect(steps[2]!.bytes).toBe(70_000);
    expect(steps[2]!.detail).toContain('undionly.kpxe');
    expect(steps[5]!.count).toBe(3);
    expect(steps.every((s) => s.hint === null)).toBe(true);
  });

  it('explains a DHCP request nobody answered, after the grace time only', () => {
    const events = [ev('dhcp.discover', 0), ev('dhcp.discover', 4)];
    expect(buildTimeline(events, t0 + 30_000).at(-1)!.hint).toBeNull();
    const late = buildTimeline(events, t0 + 600_000).at(-1)!;
    expect(late.hint).toBe(HINTS.noOffer);
    expect(late.status).toBe('warn');
  });

  it('explains a microkernel whose agent never registered, and TFTP errors', () => {
    const stuck = buildTimeline([ev('dhcp.ack', 0), ev('tftp.finish', 1), ev('node.boot', 2)], t0 + 600_000);
    expect(stuck.at(-1)!.hint).toBe(HINTS.noAgent);
    const failed = buildTimeline([ev('dhcp.ack', 0), ev('tftp.error', 1, {}, 'timeout after block 12')], t0 + 5_000);
    expect(failed.at(-1)!.status).toBe('error');
    expect(failed.at(-1)!.hint).toBe(HINTS.tftpError);
  });
});
