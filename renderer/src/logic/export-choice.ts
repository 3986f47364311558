/**
 * The Export menu's entries (pure): every format of contract/export-formats.ts (NetBox as its three imports),
 * for the selected nodes when there is a selection, and for all nodes. A key names format, part and scope so
 * the menu holds one flat list.
 */
import { EXPORT_FORMATS, EXPORT_FORMAT_NAMES, type ExportFormat } from '../../../contract/export-formats.ts';

/** NetBox's three bulk imports. */
export type NetboxPart = 'devices' | 'interfaces' | 'ip-addresses';

/** One download the menu offers. */
export interface ExportChoice {
  key: string;
  format: ExportFormat;
  part: NetboxPart | null;
  /** Node ids to export, or null for every node. */
  ids: number[] | null;
  label: string;
  /** The file name the browser saves it as. */
  file: string;
}

const PARTS: readonly NetboxPart[] = ['devices', 'interfaces', 'ip-addresses'];

function entries(ids: number[] | null, scope: string): ExportChoice[] {
  const out: ExportChoice[] = [];
  for (const format of EXPORT_FORMAT_NAMES) {
    const f = EXPORT_FORMATS[format];
    const parts: (NetboxPart | null)[] = format === 'netbox' ? [...PARTS] : [null];
    for (const part of parts)
      out.push({
        key: `${scope}:${format}:${part ?? ''}`,
        format,
        part,
        ids,
        label: part
          ? `NetBox ${part} (CSV)`
          : `${format === 'json' || format === 'csv' ? format.toUpperCase() : format[0]!.toUpperCase() + format.slice(1)} — ${f.what}`,
        file: part && part !== 'devices' ? `crashcart-netbox-${part}.csv` : f.file,
      });
  }
  return out;
}

/** The menu: a group for the selection (when there is one), then a group for all nodes. */
export function exportChoices(selected: readonly number[]): { title: string; choices: ExportChoice[] }[] {
  const groups = [{ title: 'All nodes', choices: entries(null, 'all') }];
  if (selected.length)
    groups.unshift({
      title: `Selected nodes (${selected.length})`,
      choices: entries(
        [...selected].sort((a, b) => a - b),
        'sel',
      ),
    });
  return groups;
}
