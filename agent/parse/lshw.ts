/** `lshw -json` -> system, NICs (with or without a driver), disks, memory banks. Pure. */
import { arr, clean, normMac, rec, str, tryJson } from './kv-text.ts';

/** One network device as lshw saw it. */
export interface LshwNic {
  name?: string;
  mac?: string;
  driver?: string;
  driver_version?: string;
  firmware_version?: string;
  bus_info?: string;
  speed_mbps?: number;
  link?: boolean;
  product?: string;
  vendor?: string;
}

/** One disk as lshw saw it. */
export interface LshwDisk {
  name: string;
  size_bytes: number;
  model?: string;
  serial?: string;
  vendor?: string;
}

/** What the agent takes from lshw. */
export interface LshwFacts {
  system: { product?: string; vendor?: string; serial?: string; uuid?: string; chassis?: string; sku?: string; family?: string };
  nics: LshwNic[];
  disks: LshwDisk[];
  memory_banks: { locator?: string; size_mb: number; manufacturer?: string; serial?: string; part_number?: string }[];
  cpus: { model?: string; cores?: number; threads?: number; mhz?: number }[];
}

const MAX_NODES = 20_000;

function businfoPci(v: string | undefined): string | undefined {
  return v?.startsWith('pci@') ? v.slice(4) : undefined;
}

/** Walk the lshw tree (older lshw prints a list at the top, newer an object). */
export function parseLshw(text: string): LshwFacts {
  const root = tryJson(text);
  const top = Array.isArray(root) ? rec(root[0]) : rec(root);
  const cfg = rec(top['configuration']);
  const out: LshwFacts = {
    system: {
      product: clean(str(top['product'])),
      vendor: clean(str(top['vendor'])),
      serial: clean(str(top['serial'])),
      uuid: clean(str(cfg['uuid']))?.toLowerCase(),
      chassis: clean(str(cfg['chassis'])),
      sku: clean(str(cfg['sku'])),
      family: clean(str(cfg['family'])),
    },
    nics: [],
    disks: [],
    memory_banks: [],
    cpus: [],
  };
  const stack: Record<string, unknown>[] = [top];
  let seen = 0;
  while (stack.length > 0 && seen < MAX_NODES) {
    const n = stack.pop()!;
    seen++;
    const c = rec(n['configuration']);
    const cls = str(n['class']);
    const id = str(n['id']) ?? '';
    const logical = n['logicalname'];
    const lname = typeof logical === 'string' ? logical : str(arr(logical)[0]);
    // lshw marks a NIC whose link is administratively down "disabled": it is still a NIC.
    if (cls === 'network') {
      const size = typeof n['size'] === 'number' ? n['size'] : undefined;
      const link = str(c['link']);
      out.nics.push({
        name: lname,
        mac: normMac(str(n['serial'])),
        driver: clean(str(c['driver'])),
        driver_version: clean(str(c['driverversion'])),
        firmware_version: clean(str(c['firmware'])),
        bus_info: businfoPci(str(n['businfo'])),
        speed_mbps: size !== undefined ? Math.round(size / 1_000_000) : undefined,
        link: link === undefined ? undefined : link === 'yes',
        product: clean(str(n['product'])),
        vendor: clean(str(n['vendor'])),
      });
    } else if (cls === 'disk' && lname?.startsWith('/dev/') && typeof n['size'] === 'number') {
      out.disks.push({
        name: lname.slice(5),
        size_bytes: n['size'],
        model: clean(str(n['product'])),
        serial: clean(str(n['serial'])),
        vendor: clean(str(n['vendor'])),
      });
    } else if (cls === 'memory' && id.startsWith('bank') && typeof n['size'] === 'number') {
      out.memory_banks.push({
        locator: clean(str(n['slot'])) ?? id,
        size_mb: Math.round(n['size'] / 1048576),
        manufacturer: clean(str(n['vendor'])),
        serial: clean(str(n['serial'])),
        part_number: clean(str(n['product'])),
      });
    } else if (cls === 'processor' && n['disabled'] !== true) {
      const sz = typeof n['size'] === 'number' ? n['size'] : undefined;
      out.cpus.push({
        model: clean(str(n['product'])),
        cores: Number.parseInt(str(c['cores']) ?? '', 10) || undefined,
        threads: Number.parseInt(str(c['threads']) ?? '', 10) || undefined,
        mhz: sz !== undefined ? Math.round(sz / 1_000_000) : undefined,
      });
    }
    const kids = arr(n['children']);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(rec(kids[i]));
  }
  // The stack pops in document order because children are pushed reversed.
  return out;
}
