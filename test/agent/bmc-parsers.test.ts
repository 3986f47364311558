/**
 * The pure parsers of in-band BMC enrolment on ipmitool output captured from OpenIPMI's ipmi_sim
 * (test/fixtures/ipmitool/PROVENANCE.md), the slot choice that must never take another user's slot, and
 * hostile text (never throws, bounded).
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { channelMedium, chooseUserSlot, isLanChannel, parseUserList, type UserSlot } from '../../agent/parse/ipmitool-users.ts';
import { parseLanPrint } from '../../agent/parse/ipmitool-kv.ts';
import { randomBmcPassword } from '../../agent/bmc/password.ts';

const fx = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'ipmitool', name), 'utf8');
const slot = (id: number, name: string, over: Partial<UserSlot> = {}): UserSlot => ({
  id,
  name,
  callin: true,
  link: false,
  ipmi: false,
  privilege: 'NO ACCESS',
  ...over,
});

describe('channel info', () => {
  it('finds the LAN channel and tells the system interface and a missing channel apart', () => {
    expect(channelMedium(fx('ipmi-sim.channel-info-1.stdout.txt'))).toBe('802.3 LAN');
    expect(isLanChannel(fx('ipmi-sim.channel-info-1.stdout.txt'))).toBe(true);
    expect(channelMedium(fx('ipmi-sim.channel-info-15.stdout.txt'))).toBe('System Interface');
    expect(isLanChannel(fx('ipmi-sim.channel-info-15.stdout.txt'))).toBe(false);
    expect(isLanChannel(fx('ipmi-sim.channel-info-2.stderr.txt'))).toBe(false);
    expect(isLanChannel('')).toBe(false);
  });
});

describe('user list (ipmitool -c)', () => {
  it('reads every slot of ipmi_sim, before and after a slot was taken', () => {
    const before = parseUserList(fx('ipmi-sim.user-list-csv.stdout.txt'));
    expect(before).toHaveLength(63);
    expect(before[0]).toEqual({ id: 1, name: '', callin: true, link: false, ipmi: true, privilege: 'USER' });
    expect(before[1]).toEqual({ id: 2, name: 'admin', callin: true, link: false, ipmi: true, privilege: 'ADMINISTRATOR' });
    expect(before[2]).toEqual({ id: 3, name: '', callin: true, link: false, ipmi: false, privilege: 'Unknown (0x00)' });
    const after = parseUserList(fx('ipmi-sim.user-list-csv-enrolled.stdout.txt'));
    expect(after[2]).toEqual({ id: 3, name: 'crashcart', callin: true, link: true, ipmi: true, privilege: 'ADMINISTRATOR' });
  });

  it('keeps commas inside a name (the five other fields are fixed)', () => {
    expect(parseUserList('4,a,b,true,true,true,OPERATOR\n')).toEqual([
      { id: 4, name: 'a,b', callin: true, link: true, ipmi: true, privilege: 'OPERATOR' },
    ]);
  });

  it('chooses the first free slot on ipmi_sim, and reuses its own slot afterwards', () => {
    expect(chooseUserSlot(parseUserList(fx('ipmi-sim.user-list-csv.stdout.txt')), 'crashcart')).toEqual({ id: 3, reuse: false });
    expect(chooseUserSlot(parseUserList(fx('ipmi-sim.user-list-csv-enrolled.stdout.txt')), 'crashcart')).toEqual({ id: 3, reuse: true });
  });

  it('never takes a slot that holds a user: anonymous slot 1, named slots, nameless slots with access', () => {
    // Slot 1 is the anonymous user (IPMI 2.0 22.26) even when it looks empty.
    expect(chooseUserSlot([slot(1, '')], 'crashcart')).toBeNull();
    // Named, disabled users still hold their slot.
    expect(chooseUserSlot([slot(2, 'ADMIN'), slot(3, 'old-ops', { ipmi: false })], 'crashcart')).toBeNull();
    // A nameless slot with IPMI messaging, link auth or a privilege is someone's.
    expect(chooseUserSlot([slot(2, '', { ipmi: true })], 'crashcart')).toBeNull();
    expect(chooseUserSlot([slot(2, '', { link: true })], 'crashcart')).toBeNull();
    expect(chooseUserSlot([slot(2, '', { privilege: 'ADMINISTRATOR' })], 'crashcart')).toBeNull();
    // The first truly empty one is taken; a vendor's "NO ACCESS" spelling counts as empty.
    expect(
      chooseUserSlot([slot(1, ''), slot(2, 'ADMIN', { ipmi: true, privilege: 'ADMINISTRATOR' }), slot(3, ''), slot(4, '')], 'crashcart'),
    ).toEqual({
      id: 3,
      reuse: false,
    });
    // Its own name wins over a free slot, wherever it is.
    expect(chooseUserSlot([slot(3, ''), slot(9, 'crashcart', { ipmi: true, privilege: 'ADMINISTRATOR' })], 'crashcart')).toEqual({
      id: 9,
      reuse: true,
    });
  });

  it('hostile text never throws and yields at most 64 slots', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 4000 }), (s) => {
        const slots = parseUserList(s);
        expect(slots.length).toBeLessThanOrEqual(64);
        chooseUserSlot(slots, 'crashcart');
        isLanChannel(s);
      }),
    );
    const flood = Array.from({ length: 5000 }, (_, i) => `${i % 64},,true,false,false,NO ACCESS`).join('\n');
    expect(parseUserList(flood).length).toBe(64);
  });
});

describe('lan print with a configured address', () => {
  it('reads the address, source and MAC ipmi_sim reports', () => {
    expect(parseLanPrint(fx('ipmi-sim.lan-print-configured.stdout.txt'))).toEqual({
      ip_source: 'Static Address',
      ip: '10.66.0.9',
      netmask: '255.255.255.0',
      gateway: null,
      mac: '52:54:00:aa:bb:cc',
      vlan: null,
    });
  });
});

describe('enrolment passwords', () => {
  it('are 16 letters and digits and differ every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = randomBmcPassword();
      expect(p).toMatch(/^[A-Za-z0-9]{16}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });
});
