import { describe, it, expect } from 'vitest';
import { canonicalMac, canonicalUuid, canonicalSerial, decideClaims } from '../../server/nodes/identity.ts';

describe('canonical identifiers', () => {
  it('normalises MACs and refuses non-MACs', () => {
    expect(canonicalMac('52-54-00-AB-CD-EF')).toBe('52:54:00:ab:cd:ef');
    expect(canonicalMac('5254.00ab.cdef')).toBe('52:54:00:ab:cd:ef');
    expect(canonicalMac('00:00:00:00:00:00')).toBeNull();
    expect(canonicalMac('ff:ff:ff:ff:ff:ff')).toBeNull();
    expect(canonicalMac('52:54:00')).toBeNull();
    expect(canonicalMac(undefined)).toBeNull();
  });
  it('drops placeholder UUIDs and serials', () => {
    expect(canonicalUuid('4C4C4544-0042-3510-8051-B7C04F4E3232')).toBe('4c4c4544-0042-3510-8051-b7c04f4e3232');
    expect(canonicalUuid('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(canonicalUuid('03000200-0400-0500-0006-000700080009')).toBeNull();
    expect(canonicalUuid('not-a-uuid')).toBeNull();
    for (const s of ['To be filled by O.E.M.', 'Not Specified', '0123456789', '', '   ', 'System Serial Number', 'Default string'])
      expect(canonicalSerial(s)).toBeNull();
    expect(canonicalSerial(' CZJ12345 ')).toBe('CZJ12345');
  });
});

describe('decideClaims (docs/identity.md 1: claimed, never taken)', () => {
  const rec = (id: number, macs: string[], uuid: string | null = null, serial: string | null = null) => ({ id, macs, uuid, serial });
  it('takes identifiers no other record holds', () => {
    expect(decideClaims({ macs: ['a', 'b'], uuid: 'u', serial: 's' }, [])).toEqual({
      macs: ['a', 'b'],
      uuid: 'u',
      serial: 's',
      overlaps: [],
    });
  });
  it('never takes a MAC another record holds, registered or not: that is a conflict', () => {
    const d = decideClaims({ macs: ['own', 'victim'], uuid: null, serial: null }, [rec(7, ['victim'])]);
    expect(d.macs).toEqual(['own']);
    expect(d.overlaps).toEqual([{ node_id: 7, field: 'mac', value: 'victim' }]);
  });
  it('never takes a UUID or serial another record holds, even when both match (they are in broadcast DHCP)', () => {
    const d = decideClaims({ macs: ['x'], uuid: 'u1', serial: 's1' }, [rec(6, ['y'], 'u1', 's1')]);
    expect(d).toEqual({
      macs: ['x'],
      uuid: null,
      serial: null,
      overlaps: [
        { node_id: 6, field: 'uuid', value: 'u1' },
        { node_id: 6, field: 'serial', value: 's1' },
      ],
    });
  });
  it('reports every holder of a shared UUID (cheap boards)', () => {
    const d = decideClaims({ macs: ['x'], uuid: 'u', serial: null }, [rec(2, ['p'], 'u'), rec(3, ['q'], 'u')]);
    expect(d.overlaps.map((o) => o.node_id)).toEqual([2, 3]);
    expect(d.uuid).toBeNull();
  });
});
