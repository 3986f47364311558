/**
 * LeaseSlots (server/store/lease-slots.ts): every lease comes back equal to what was stored, fields in the same
 * order (the journal line is its JSON), whether it was held as numbers or, being of another shape, whole; slots are
 * reused; the MAC codec round-trips and refuses what is not canonical.
 */
import { describe, expect, it } from 'vitest';
import { IdSlots, LeaseSlots, macToNumber, numberToMac } from '../../server/store/lease-slots.ts';
import type { LeaseDoc } from '../../server/store/docs.ts';

const lease = (i: number, extra: Partial<LeaseDoc> = {}): LeaseDoc => {
  const mac = `52:54:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  return {
    _id: mac,
    mac,
    ip: `10.9.${(i >> 8) & 255}.${i & 255}`,
    state: 'bound',
    expires_at: 1_780_000_000_000 + i,
    pool: 'default',
    hostname: null,
    client_id: null,
    updated_at: 1_779_999_000_000 + i + 0.5,
    ...extra,
  };
};

/** The same document, compared as its journal line would be (values and key order). */
const line = (d: LeaseDoc) => JSON.stringify(d);

describe('LeaseSlots', () => {
  it('gives back each shape the DHCP server writes, key order included', () => {
    const slots = new LeaseSlots();
    const docs: LeaseDoc[] = [
      lease(1),
      lease(2, { client_id: '015254000000002', hostname: 'node-2' }),
      lease(3, { client_id: '01525400000003' }), // 01 + the MAC: held as a flag
      lease(4, { client_id: 'ff00aa' }),
      { ...lease(5), arch: 7 },
      { ...lease(6), arch: null },
      lease(7, { state: 'offered', pool: 'rack-b' }),
      ...(['released', 'declined', 'expired'] as const).map((state, i) => lease(8 + i, { state })),
    ];
    const at = docs.map((d) => slots.add(d));
    docs.forEach((d, i) => expect(line(slots.doc(at[i]!))).toBe(line(d)));
    expect(slots.size).toBe(docs.length);
  });

  it('keeps other shapes whole and gives back an equal document (never the stored object)', () => {
    const slots = new LeaseSlots();
    const odd: LeaseDoc[] = [
      { ...lease(1), note: 'written by a later version' },
      { ...lease(2), mac: '52:54:00:00:00:02'.toUpperCase(), _id: '52:54:00:00:00:02'.toUpperCase() },
      { ...lease(3), _id: 'nedb-random-id-0003' },
      { ...lease(4), ip: '010.9.0.4' },
      { ...lease(5), state: 'abandoned' as LeaseDoc['state'] },
      {
        mac: lease(6).mac,
        _id: lease(6).mac,
        ip: '10.9.0.6',
        state: 'bound',
        expires_at: 1,
        pool: 'p',
        hostname: null,
        client_id: null,
        updated_at: 2,
      },
      { ...lease(7), expires_at: '1780000000007' as unknown as number },
    ];
    for (const d of odd) {
      const s = slots.add(d);
      const back = slots.doc(s);
      expect(line(back)).toBe(line(d));
      expect(back).not.toBe(d);
      expect([slots.idOf(s), slots.macText(s), slots.ipText(s), slots.stateOf(s)]).toEqual([d._id, d.mac, d.ip, d.state]);
    }
  });

  it('replaces in place, frees and reuses slots, and grows past its first 16,384 without losing any', () => {
    const slots = new LeaseSlots();
    const at = Array.from({ length: 20_000 }, (_, i) => slots.add(lease(i)));
    expect(new Set(at).size).toBe(20_000);
    slots.replace(at[10]!, lease(10, { state: 'expired' }));
    expect(slots.stateOf(at[10]!)).toBe('expired');
    slots.remove(at[20]!);
    slots.remove(at[20]!); // twice: still one free slot
    expect(slots.size).toBe(19_999);
    expect(slots.add(lease(30_000))).toBe(at[20]);
    expect(slots.add(lease(30_001))).toBe(20_000);
    expect([...slots.slots()].length).toBe(20_001);
    for (const i of [0, 999, 16_383, 16_384, 19_999]) expect(line(slots.doc(at[i]!))).toBe(line(lease(i)));
    expect(slots.ipOf(at[2999]!)).toBe(((10 << 24) | (9 << 16) | 2999) >>> 0);
  });
});

describe('MAC codec and IdSlots', () => {
  it('round-trips canonical MACs, refuses every other spelling', () => {
    for (const m of ['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '52:54:00:ab:cd:ef', '01:23:45:67:89:0a'])
      expect(numberToMac(macToNumber(m))).toBe(m);
    expect(macToNumber('ff:ff:ff:ff:ff:ff')).toBe(2 ** 48 - 1);
    for (const bad of ['52:54:00:AB:CD:EF', '52-54-00-ab-cd-ef', '5254.00ab.cdef', '52:54:00:ab:cd:e', '52:54:00:ab:cd:eg', ''])
      expect(macToNumber(bad)).toBe(-1);
  });

  it('indexes canonical MACs and any other id apart, without mixing them up', () => {
    const ids = new IdSlots();
    ids.set('52:54:00:ab:cd:ef', 1);
    ids.set('52:54:00:AB:CD:EF', 2);
    ids.set('nedb-id', 3);
    expect([ids.get('52:54:00:ab:cd:ef'), ids.get('52:54:00:AB:CD:EF'), ids.get('nedb-id'), ids.get('other')]).toEqual([1, 2, 3, -1]);
    ids.delete('52:54:00:ab:cd:ef');
    expect([ids.get('52:54:00:ab:cd:ef'), ids.get('52:54:00:AB:CD:EF')]).toEqual([-1, 2]);
  });
});
