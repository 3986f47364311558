import { describe, it, expect } from 'vitest';
import { canonicalMac, canonicalUuid, canonicalSerial, decideMatch } from '../../server/nodes/identity.ts';

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

describe('decideMatch', () => {
  const rec = (id: number, macs: string[], registered: boolean, uuid: string | null = null, serial: string | null = null) => ({
    id,
    macs,
    uuid,
    serial,
    registered,
  });
  it('prefers the claimed node and absorbs boot-time records that share a MAC', () => {
    const d = decideMatch({ macs: ['a', 'b'], uuid: 'u', serial: 's' }, 2, [rec(1, ['b'], false), rec(2, ['a'], false)]);
    expect(d).toEqual({ target: 2, absorb: [1], conflicts: [] });
  });
  it('matches by MAC when nothing is claimed, preferring the registered record', () => {
    const d = decideMatch({ macs: ['a', 'b'], uuid: null, serial: null }, null, [rec(1, ['a'], false), rec(3, ['b'], true)]);
    expect(d.target).toBe(3);
    expect(d.absorb).toEqual([1]);
  });
  it('reports a registered machine with the same UUID but other MACs as a conflict, not a merge', () => {
    const d = decideMatch({ macs: ['x'], uuid: 'u1', serial: 's1' }, 5, [rec(5, ['x'], false), rec(6, ['y'], true, 'u1', 's9')]);
    expect(d).toEqual({ target: 5, absorb: [], conflicts: [{ node_id: 6, field: 'uuid', value: 'u1' }] });
  });
  it('folds in a duplicate registration of the same machine (same MAC, UUID and serial)', () => {
    const d = decideMatch({ macs: ['x'], uuid: 'u', serial: 's' }, 5, [rec(5, ['z'], false), rec(6, ['x'], true, 'u', 's')]);
    expect(d.absorb).toEqual([6]);
  });
  it('reports a registered machine sharing a MAC but not its hardware ids as a MAC conflict', () => {
    const d = decideMatch({ macs: ['x'], uuid: 'u', serial: 's' }, 5, [rec(5, ['z'], false), rec(6, ['x'], true, 'other', 'other')]);
    expect(d.conflicts).toEqual([{ node_id: 6, field: 'mac', value: 'x' }]);
  });
  it('creates a new node when nothing matches', () => {
    expect(decideMatch({ macs: ['q'], uuid: null, serial: null }, null, [])).toEqual({ target: null, absorb: [], conflicts: [] });
  });
});
