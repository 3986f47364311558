/** One export format to its text: the pure renderer of each format (docs/exports.md). */
import type { ExportFormat } from '../../contract/export-formats.ts';
import type { ExportInput } from './export-input.ts';
import { renderAnsible } from './ansible.ts';
import { renderNetbox, type NetboxPart } from './netbox.ts';
import { renderTinkerbell } from './tinkerbell.ts';
import { renderIronic } from './ironic.ts';

/** The renderers of the formats that are not the plain node dumps (json and csv live in server/nodes/node-export.ts). */
export function renderExport(format: Exclude<ExportFormat, 'json' | 'csv'>, input: ExportInput, part: NetboxPart = 'devices'): string {
  switch (format) {
    case 'ansible':
      return renderAnsible(input);
    case 'netbox':
      return renderNetbox(input, part);
    case 'tinkerbell':
      return renderTinkerbell(input);
    case 'ironic':
      return renderIronic(input);
  }
}
