/**
 * The inventory exports an operator hands to the next tool (docs/exports.md). Plain data with no TypeBox,
 * so the renderer's export menu can import it at run time.
 */

/** Every export format, with its media type and file name. */
export const EXPORT_FORMATS = {
  ansible: { type: 'application/yaml', file: 'crashcart-inventory.yml', what: 'Ansible inventory (YAML), grouped by tag and policy' },
  netbox: { type: 'text/csv', file: 'crashcart-netbox.csv', what: 'NetBox bulk import CSV: devices, interfaces, IP addresses' },
  tinkerbell: {
    type: 'application/yaml',
    file: 'crashcart-hardware.yml',
    what: 'Tinkerbell Hardware objects (YAML, one document per node)',
  },
  ironic: { type: 'application/json', file: 'crashcart-ironic.json', what: 'Ironic nodes with ports and the collected inventory (JSON)' },
  json: { type: 'application/json', file: 'crashcart-nodes.json', what: 'every node with its facts and inventory (JSON)' },
  csv: { type: 'text/csv', file: 'crashcart-nodes.csv', what: 'one row per node (CSV)' },
} as const;
/** One export format name. */
export type ExportFormat = keyof typeof EXPORT_FORMATS;
/** The format names, in menu order. */
export const EXPORT_FORMAT_NAMES = Object.keys(EXPORT_FORMATS) as ExportFormat[];
