/**
 * The bulk runner's own logic (concurrency, stagger, per-node results, events) on in-memory drivers that
 * implement the driver interface; the drivers themselves are tested against real BMC peers in
 * ipmi-sim.test.ts and redfish-sushy.test.ts, which also run this runner against them.
 */
import { describe, it, expect } from 'vitest';
import { runBulkPower, type PowerJob } from '../../server/bmc/bulk-power.ts';
import type { BmcDriver, BootRequest } from '../../server/bmc/driver.ts';
import type { PowerAction } from '../../contract/index.ts';
import type { EventInput, EventSink } from '../../server/events/event-log.ts';
import { ccError } from '../../server/errors/cc-error.ts';

type Step = string;

function memoryDriver(
  id: number,
  log: Step[],
  live: { now: number; max: number },
  opts: { bootError?: Error; powerError?: Error } = {},
): BmcDriver {
  return {
    kind: 'ipmi',
    probe: async () => ({ power: 'off', info: {}, warnings: [] }),
    identity: async () => ({ uuid: null, serial: null, macs: [], sources: [], warnings: [] }),
    async setBootDevice(req: BootRequest) {
      log.push(`boot ${id} ${req.device}`);
      if (opts.bootError) throw opts.bootError;
      return { warnings: [] };
    },
    async power(action: PowerAction) {
      live.now++;
      live.max = Math.max(live.max, live.now);
      log.push(`power ${id} ${action}`);
      // Let the other workers run while this one is "talking to its BMC".
      await new Promise((r) => setImmediate(r));
      live.now--;
      if (opts.powerError) throw opts.powerError;
      return { power: action === 'off' ? 'off' : 'on', warnings: [] };
    },
    close: async () => void log.push(`close ${id}`),
  };
}

function events(): EventSink & { seen: { type: string; e: EventInput }[] } {
  const seen: { type: string; e: EventInput }[] = [];
  return {
    seen,
    emit: (type, e) => (
      seen.push({ type, e }),
      { seq: seen.length, ts: '', type, node_id: e.node_id ?? null, mac: null, message: e.message, data: e.data ?? {} }
    ),
  };
}

describe('bulk power runner', () => {
  it('keeps to the concurrency limit and staggers starts', async () => {
    const log: Step[] = [];
    const live = { now: 0, max: 0 };
    const jobs: PowerJob[] = [1, 2, 3, 4, 5, 6].map((id) => ({ node_id: id, open: () => memoryDriver(id, log, live) }));
    const sleep = async (ms: number) => void log.push(`sleep ${ms}`);
    const results = await runBulkPower(jobs, { action: 'on', concurrency: 2, staggerMs: 3000, sleep });
    expect(results.map((r) => [r.node_id, r.ok, r.power])).toEqual([1, 2, 3, 4, 5, 6].map((id) => [id, true, 'on']));
    expect(live.max).toBeLessThanOrEqual(2);
    expect(live.max).toBe(2);
    // Every start after the first waited one stagger interval more than the one before it.
    const powers = log.map((s, i) => [s, i] as const).filter(([s]) => s.startsWith('power'));
    powers.forEach(([, at], k) => expect(log.slice(0, at).filter((s) => s === 'sleep 3000')).toHaveLength(k));
    expect(log.filter((s) => s.startsWith('close'))).toHaveLength(6);
  });

  it('does not stagger actions that start nothing', async () => {
    const log: Step[] = [];
    const live = { now: 0, max: 0 };
    const jobs: PowerJob[] = [1, 2, 3].map((id) => ({ node_id: id, open: () => memoryDriver(id, log, live) }));
    await runBulkPower(jobs, { action: 'off', concurrency: 8, staggerMs: 3000, sleep: async (ms) => void log.push(`sleep ${ms}`) });
    expect(log.filter((s) => s.startsWith('sleep'))).toEqual([]);
    expect(live.max).toBe(3);
  });

  it('a refused boot device is a warning; other failures are that node only, with code, fix and events', async () => {
    const log: Step[] = [];
    const live = { now: 0, max: 0 };
    const ev = events();
    const jobs: PowerJob[] = [
      {
        node_id: 1,
        open: () => memoryDriver(1, log, live, { bootError: ccError('CC_ERR_BMC_REFUSED', 'Set Chassis Boot Parameter 5 failed') }),
      },
      { node_id: 2, open: () => memoryDriver(2, log, live, { bootError: ccError('CC_ERR_BMC_AUTH', 'RAKP 2 HMAC is invalid') }) },
      { node_id: 3, open: () => Promise.reject(ccError('CC_ERR_SECRET_UNREADABLE', 'node/3/bmc.password')) },
      {
        node_id: 4,
        open: () =>
          memoryDriver(4, log, live, {
            powerError: ccError('CC_ERR_BMC_TLS_CHANGED', 'pinned AA, now BB', { expected: 'AA', presented: 'BB' }),
          }),
      },
      { node_id: 5, open: () => memoryDriver(5, log, live) },
    ];
    const results = await runBulkPower(jobs, {
      action: 'on',
      boot: { device: 'pxe', persistent: false, mode: 'uefi' },
      concurrency: 3,
      staggerMs: 0,
      events: ev,
    });
    expect(results[0]).toMatchObject({ node_id: 1, ok: true, power: 'on' });
    expect(results[0]!.warnings![0]).toMatch(/^boot device pxe not set: .*Set Chassis Boot Parameter 5 failed.*own boot order$/);
    expect(results[1]).toMatchObject({ node_id: 2, ok: false, code: 'CC_ERR_BMC_AUTH' });
    expect(results[1]!.reason).toMatch(/RAKP 2 HMAC is invalid \(fix: Enter the BMC user and password again/);
    expect(log).not.toContain('power 2 on');
    expect(results[2]).toMatchObject({ node_id: 3, ok: false, code: 'CC_ERR_SECRET_UNREADABLE' });
    expect(results[3]).toMatchObject({ node_id: 4, ok: false, code: 'CC_ERR_BMC_TLS_CHANGED' });
    expect(results[4]).toEqual({ node_id: 5, ok: true, power: 'on' });
    const types = ev.seen.map((s) => `${s.type}:${s.e.node_id}`);
    expect(types).toEqual(
      expect.arrayContaining([
        'bmc.warning:1',
        'bmc.action:1',
        'bmc.error:2',
        'bmc.error:3',
        'bmc.error:4',
        'bmc.tls_changed:4',
        'bmc.action:5',
      ]),
    );
    expect(ev.seen.find((s) => s.type === 'bmc.tls_changed')!.e.data).toEqual({ expected: 'AA', presented: 'BB' });
  });
});
