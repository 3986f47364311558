/**
 * NetBox bulk-import CSV (Devices, Interfaces and IP addresses are three
 * imports in NetBox, one CSV each; the column names are the import form field
 * names of NetBox 4.1, listed with their source in
 * test/fixtures/exports/netbox-import-fields.json). Every cell goes through
 * csvCell: RFC 4180 quoting and the formula-injection guard. Site, role and
 * status are the operator's choice in NetBox: we write `crashcart` /
 * `server` and map our states to NetBox's status names; edit them before
 * importing if the NetBox site is named otherwise. Pure.
 */
import type { Node } from '../../contract/index.ts';
import { csvCell } from '../nodes/node-export.ts';
import type { ExportInput, ExportNode } from './export-input.ts';
import { exportName } from './export-input.ts';

/** The three NetBox imports. */
export const NETBOX_PARTS = ['devices', 'interfaces', 'ip-addresses'] as const;
/** One NetBox import. */
export type NetboxPart = (typeof NETBOX_PARTS)[number];

/** Site and role every device gets (NetBox requires both; the operator renames them in NetBox or the CSV). */
export const NETBOX_SITE = 'crashcart';
/** Device role every device gets. */
export const NETBOX_ROLE = 'server';

/** Column order of each import. */
export const NETBOX_COLUMNS: Record<NetboxPart, readonly string[]> = {
  devices: ['name', 'role', 'manufacturer', 'device_type', 'site', 'status', 'serial', 'description', 'comments'],
  interfaces: ['device', 'name', 'type', 'enabled', 'mac_address', 'mtu', 'speed', 'mgmt_only', 'description'],
  'ip-addresses': ['address', 'status', 'device', 'interface', 'is_primary', 'dns_name', 'description'],
};

/** NetBox device status: only an installed machine is `active`. */
function status(n: Node): string {
  return n.state === 'installed' ? 'active' : n.state === 'error' || n.state === 'lost' ? 'failed' : 'planned';
}

/** NetBox interface type slug from the link speed (dcim InterfaceTypeChoices); `other` when unknown. */
export function interfaceType(speedMbps: number | undefined): string {
  switch (speedMbps) {
    case 100:
      return '100base-tx';
    case 1000:
      return '1000base-t';
    case 10000:
      return '10gbase-x-sfpp';
    case 25000:
      return '25gbase-x-sfp28';
    default:
      return 'other';
  }
}

type Row = Record<string, unknown>;

function rows(part: NetboxPart, e: ExportNode, prefix: number | null): Row[] {
  const n = e.node;
  const device = exportName(n);
  if (part === 'devices')
    return [
      {
        name: device,
        role: NETBOX_ROLE,
        manufacturer: n.manufacturer ?? 'Unknown',
        device_type: n.product ?? 'Unknown',
        site: NETBOX_SITE,
        status: status(n),
        serial: n.serial,
        description: `crashcart node ${n.id}`,
        comments: n.tags.length ? `tags: ${n.tags.join(', ')}` : '',
      },
    ];
  const nics = e.inventory?.nics ?? n.macs.map((mac, i) => ({ name: `nic${i}`, mac, speed_mbps: undefined, mtu: undefined }));
  if (part === 'interfaces')
    return nics.map((x) => ({
      device,
      name: x.name,
      type: interfaceType(x.speed_mbps),
      enabled: 'true',
      mac_address: x.mac.toUpperCase(),
      mtu: x.mtu,
      speed: x.speed_mbps !== undefined ? x.speed_mbps * 1000 : undefined, // NetBox counts kbps
      mgmt_only: 'false',
      description: x.mac === n.boot_mac ? 'boot NIC' : '',
    }));
  if (!n.ip) return [];
  const nic = nics.find((x) => x.mac === n.boot_mac) ?? nics[0];
  return [
    {
      address: `${n.ip}/${prefix ?? 32}`,
      status: 'active',
      device,
      interface: nic?.name,
      is_primary: 'true',
      dns_name: n.hostname && /^[A-Za-z0-9.-]+$/.test(n.hostname) ? n.hostname : '',
      description: `crashcart node ${n.id}`,
    },
  ];
}

/** One NetBox import as CSV with a header row, CRLF line ends (RFC 4180 2). */
export function renderNetbox(input: ExportInput, part: NetboxPart): string {
  const cols = NETBOX_COLUMNS[part];
  const body = input.nodes.flatMap((e) => rows(part, e, input.prefix)).map((r) => cols.map((c) => csvCell(r[c])).join(','));
  return [cols.join(','), ...body].join('\r\n') + '\r\n';
}
