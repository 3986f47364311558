/**
 * `dmidecode` text output -> typed SMBIOS records (types 0,1,2,3,4,17,38,42). Pure.
 * SMBIOS (DSP0134) structure types: 0 BIOS, 1 System, 2 Baseboard, 3 Chassis,
 * 4 Processor, 17 Memory Device, 38 IPMI Device, 42 Management Controller Host Interface.
 */
import { clean, int, lines } from './kv-text.ts';

/** One SMBIOS structure as dmidecode prints it. */
export interface DmiRecord {
  handle: string;
  type: number;
  title: string;
  props: Record<string, string>;
  /** Multi-line properties (Flags:, Characteristics:) as their item lines. */
  lists: Record<string, string[]>;
}

const MAX_RECORDS = 4096;

/** Split dmidecode output into records; unknown or garbled text is skipped. */
export function parseDmidecodeRecords(text: string): DmiRecord[] {
  const out: DmiRecord[] = [];
  let cur: DmiRecord | null = null;
  let expectTitle = false;
  let listKey: string | null = null;
  for (const line of lines(text)) {
    const h = /^Handle (0x[0-9A-Fa-f]+), DMI type (\d+)/.exec(line);
    if (h) {
      if (out.length >= MAX_RECORDS) break;
      cur = { handle: h[1]!, type: Number(h[2]), title: '', props: {}, lists: {} };
      out.push(cur);
      expectTitle = true;
      listKey = null;
      continue;
    }
    if (!cur) continue;
    if (line.trim() === '') {
      listKey = null;
      continue;
    }
    if (expectTitle && !line.startsWith('\t')) {
      cur.title = line.trim();
      expectTitle = false;
      continue;
    }
    expectTitle = false;
    if (line.startsWith('\t\t')) {
      if (listKey) (cur.lists[listKey] ??= []).push(line.trim());
      continue;
    }
    if (line.startsWith('\t')) {
      const body = line.slice(1);
      const i = body.indexOf(':');
      if (i <= 0) continue;
      const key = body.slice(0, i).trim();
      const value = body.slice(i + 1).trim();
      if (value === '') {
        listKey = key;
        cur.lists[key] = [];
      } else {
        listKey = null;
        if (!(key in cur.props)) cur.props[key] = value;
      }
    }
  }
  return out;
}

/** What the agent needs out of SMBIOS. */
export interface DmiFacts {
  bios: { vendor?: string; version?: string; date?: string; uefi_capable: boolean };
  system: { manufacturer?: string; product?: string; version?: string; serial?: string; uuid?: string; sku?: string; family?: string };
  baseboard: { manufacturer?: string; product?: string; serial?: string };
  chassis: { type?: string; serial?: string; manufacturer?: string };
  processors: { socket?: string; model?: string; manufacturer?: string; cores?: number; threads?: number; mhz?: number }[];
  memory: {
    locator?: string;
    size_mb: number;
    type?: string;
    speed_mts?: number;
    manufacturer?: string;
    serial?: string;
    part_number?: string;
  }[];
  ipmi?: { interface_type?: string; spec_version?: string; base_address?: string };
  host_interface?: { interface_type?: string };
}

/** "16384 MB" / "32 GB" / "1 TB" / "No Module Installed" -> MiB (0 when empty). */
export function dmiSizeMb(v: string | undefined): number {
  if (!v) return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(kB|KB|MB|GB|TB)\b/.exec(v.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const mult = unit === 'KB' ? 1 / 1024 : unit === 'MB' ? 1 : unit === 'GB' ? 1024 : 1024 * 1024;
  return Math.round(n * mult);
}

/** "2133 MHz" / "2666 MT/s" -> number. */
function speed(v: string | undefined): number | undefined {
  const m = v ? /^(\d+)\s*(MHz|MT\/s)/.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}

/** A UUID unless it is absent, all zero or all F (cheap boards ship those). */
function uuidOf(v: string | undefined): string | undefined {
  const c = clean(v);
  if (!c || /not (settable|present)/i.test(c)) return undefined;
  const hex = c.replace(/-/g, '');
  if (/^0+$/.test(hex) || /^f+$/i.test(hex)) return undefined;
  return c.toLowerCase();
}

/** Reduce SMBIOS records to the facts the inventory uses. */
export function dmiFacts(records: DmiRecord[]): DmiFacts {
  const first = (t: number): DmiRecord | undefined => records.find((r) => r.type === t);
  const bios = first(0);
  const sys = first(1);
  const board = first(2);
  const chassis = first(3);
  const ipmi = first(38);
  const hi = first(42);
  const chars = bios?.lists['Characteristics'] ?? [];
  const out: DmiFacts = {
    bios: {
      vendor: clean(bios?.props['Vendor']),
      version: clean(bios?.props['Version']),
      date: clean(bios?.props['Release Date']),
      uefi_capable: chars.some((c) => /UEFI is supported/i.test(c)),
    },
    system: {
      manufacturer: clean(sys?.props['Manufacturer']),
      product: clean(sys?.props['Product Name']),
      version: clean(sys?.props['Version']),
      serial: clean(sys?.props['Serial Number']),
      uuid: uuidOf(sys?.props['UUID']),
      sku: clean(sys?.props['SKU Number']),
      family: clean(sys?.props['Family']),
    },
    baseboard: {
      manufacturer: clean(board?.props['Manufacturer']),
      product: clean(board?.props['Product Name']),
      serial: clean(board?.props['Serial Number']),
    },
    chassis: {
      type: clean(chassis?.props['Type']),
      serial: clean(chassis?.props['Serial Number']),
      manufacturer: clean(chassis?.props['Manufacturer']),
    },
    processors: records
      .filter((r) => r.type === 4 && !/not populated|unpopulated/i.test(r.props['Status'] ?? ''))
      .map((r) => ({
        socket: clean(r.props['Socket Designation']),
        model: clean(r.props['Version']),
        manufacturer: clean(r.props['Manufacturer']),
        cores: int(r.props['Core Count']),
        threads: int(r.props['Thread Count']),
        mhz: speed(r.props['Current Speed']),
      })),
    memory: records
      .filter((r) => r.type === 17)
      .map((r) => ({
        locator: clean(r.props['Locator']),
        size_mb: dmiSizeMb(r.props['Size']),
        type: clean(r.props['Type']),
        speed_mts: speed(r.props['Configured Memory Speed'] ?? r.props['Configured Clock Speed'] ?? r.props['Speed']),
        manufacturer: clean(r.props['Manufacturer']),
        serial: clean(r.props['Serial Number']),
        part_number: clean(r.props['Part Number']),
      }))
      .filter((m) => m.size_mb > 0),
  };
  if (ipmi) {
    out.ipmi = {
      interface_type: clean(ipmi.props['Interface Type']),
      spec_version: clean(ipmi.props['Specification Version']),
      base_address: clean(ipmi.props['Base Address']),
    };
  }
  if (hi) out.host_interface = { interface_type: clean(hi.props['Interface Type']) };
  return out;
}

/** Parse dmidecode text straight to DmiFacts. */
export function parseDmidecode(text: string): DmiFacts {
  return dmiFacts(parseDmidecodeRecords(text));
}
