// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import BootTimeline from './boot-timeline.vue';
import { mountInApp } from '../test-fixtures/mount-app.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const ev = (seq: number, type: string, s: number, data: Record<string, unknown> = {}): CcEvent =>
  ({
    seq,
    ts: new Date(t0 + s * 1000).toISOString(),
    type,
    node_id: 1,
    mac: '52:54:00:00:00:01',
    message: type,
    data,
  }) as CcEvent; // a fixture: only the fields the timeline reads

describe('boot timeline component', () => {
  it('shows the chain summary and every step together once a node has boot events', async () => {
    const events = [
      ev(3, 'node.registered', 20),
      ev(2, 'tftp.finish', 2, { file: 'undionly.kpxe', bytes: 70_000 }),
      ev(1, 'dhcp.offer', 1),
    ];
    const { wrapper } = await mountInApp(BootTimeline, { events });
    expect(wrapper.find('[data-test="boot-chain"]').exists()).toBe(true);
    const timeline = wrapper.find('[data-test="boot-timeline"]');
    expect(timeline.exists()).toBe(true);
    expect(timeline.text()).toContain('undionly.kpxe');
    wrapper.unmount();
  });

  it('shows only the empty state before any boot event', async () => {
    const { wrapper } = await mountInApp(BootTimeline, { events: [] });
    expect(wrapper.find('[data-test="boot-timeline"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="boot-chain"]').exists()).toBe(false);
    expect(wrapper.text()).toContain('No boot events yet');
    wrapper.unmount();
  });
});
