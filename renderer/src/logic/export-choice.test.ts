/** The Export menu's entries: every format (NetBox as three), a selection group only when there is a selection. */
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMAT_NAMES } from '../../../contract/export-formats.ts';
import { exportChoices } from './export-choice.ts';

describe('exportChoices', () => {
  it('offers every format for all nodes, NetBox as its three imports, with the file names the server sends', () => {
    const [all, ...rest] = exportChoices([]);
    expect(rest).toEqual([]);
    expect(all!.title).toBe('All nodes');
    expect(new Set(all!.choices.map((c) => c.format))).toEqual(new Set(EXPORT_FORMAT_NAMES));
    expect(all!.choices.filter((c) => c.format === 'netbox').map((c) => [c.part, c.file])).toEqual([
      ['devices', 'crashcart-netbox.csv'],
      ['interfaces', 'crashcart-netbox-interfaces.csv'],
      ['ip-addresses', 'crashcart-netbox-ip-addresses.csv'],
    ]);
    expect(all!.choices.every((c) => c.ids === null)).toBe(true);
    expect(new Set(all!.choices.map((c) => c.key)).size).toBe(all!.choices.length);
  });

  it('puts the selection first, its ids sorted, and keeps the all-nodes group', () => {
    const [sel, all] = exportChoices([12, 3, 7]);
    expect(sel!.title).toBe('Selected nodes (3)');
    expect(sel!.choices.every((c) => c.ids?.join(',') === '3,7,12')).toBe(true);
    expect(sel!.choices.find((c) => c.format === 'ansible')!.key).toBe('sel:ansible:');
    expect(all!.choices.find((c) => c.format === 'ansible')!.key).toBe('all:ansible:');
  });
});
