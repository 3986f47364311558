/** Group-committed lease writes, the ARP table parser and the link reader. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { LeaseStore } from '../../server/dhcp/lease-store.ts';
import { parseArpTable } from '../../server/dhcp/arp-table.ts';
import { readLinkState, linkServes } from '../../server/net/link-state.ts';
import type { LeaseDoc } from '../../server/store/docs.ts';
import { tempStore } from './helpers.ts';

let ts: Awaited<ReturnType<typeof tempStore>>;
beforeEach(async () => {
  ts = await tempStore();
});
afterEach(async () => ts.cleanup());

const lease = (i: number, state: LeaseDoc['state'] = 'bound'): LeaseDoc => {
  const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  return {
    _id: mac,
    mac,
    ip: `10.9.${i >> 8}.${i & 255}`,
    state,
    expires_at: 1000 + i,
    pool: 'main',
    hostname: null,
    client_id: null,
    updated_at: i,
  };
};

describe('LeaseStore', () => {
  it('1,000 concurrent durable writes share few fsyncs and are all in the file when they resolve', async () => {
    const s = new LeaseStore(ts.store.leases);
    await s.loadAll();
    const syncs0 = ts.store.leases.fsync.syncs;
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.put(lease(i), true)));
    const syncs = ts.store.leases.fsync.syncs - syncs0;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(100);
    expect(s.batches).toBeLessThan(100);
    const text = await fs.readFile(ts.store.leases.filename!, 'utf8');
    for (const i of [0, 499, 999]) expect(text).toContain(`"ip":"10.9.${i >> 8}.${i & 255}"`);
    expect(await ts.store.leases.count()).toBe(1000);
  });

  it('updates known leases in place, keeps the last of two queued writes, removes, and survives a reopen', async () => {
    const s = new LeaseStore(ts.store.leases);
    await s.loadAll();
    await s.put(lease(1), true);
    await Promise.all([
      s.put({ ...lease(1), state: 'released' }, false),
      s.put({ ...lease(1), state: 'expired' }, true),
      s.put(lease(2), true),
    ]);
    expect((await ts.store.leases.findOne({ _id: lease(1)._id }))?.state).toBe('expired');
    await s.remove(lease(2)._id);
    const { store } = await ts.reopen();
    const s2 = new LeaseStore(store.leases);
    const docs = await s2.loadAll();
    expect(docs.map((d) => [d._id, d.state])).toEqual([[lease(1)._id, 'expired']]);
    // Known to be on disk after the reload: a put is an update, not a second document.
    await s2.put({ ...lease(1), state: 'bound' }, true);
    expect(await store.leases.count()).toBe(1);
  });
});

describe('kernel tables', () => {
  it('parses /proc/net/arp rows and skips incomplete entries', () => {
    const t = parseArpTable(
      'IP address       HW type     Flags       HW address            Mask     Device\n' +
        '10.9.0.155       0x1         0x2         52:54:00:CC:00:07     *        p0\n' +
        '10.9.0.156       0x1         0x0         00:00:00:00:00:00     *        p0\n',
    );
    expect([...t]).toEqual([['10.9.0.155', '52:54:00:cc:00:07']]);
  });
  it('reads the loopback link and reports a missing one', () => {
    const lo = readLinkState('lo');
    expect(lo.exists).toBe(true);
    expect(linkServes(lo, '127.0.0.1')).toBe(true);
    expect(linkServes(lo, '10.255.255.1')).toBe(false);
    expect(readLinkState('cc-no-such-if')).toEqual({ exists: false, up: false, ipv4: [] });
  });
});
