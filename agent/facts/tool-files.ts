/**
 * The saved tool outputs the agent works from, live or replayed. File names are
 * the replay contract (`crashcart-agent --from DIR`, `crashcart-agent collect DIR`).
 */
import type { Inventory } from '../../contract/node.ts';

/** Logical tool output -> accepted file names, preferred first (JSON forms, then text forms). */
export const TOOL_FILES = {
  dmidecode: ['dmidecode.txt'],
  lshw: ['lshw.json'],
  lscpu: ['lscpu.json', 'lscpu.txt'],
  lsblk: ['lsblk.json', 'lsblk.txt'],
  ipAddr: ['ip-addr.json', 'ip-addr.txt'],
  ipLink: ['ip-link.json', 'ip-link.txt'],
  ipmiLan: ['ipmitool-lan.txt'],
  ipmiMc: ['ipmitool-mc.txt'],
  ipmiFru: ['ipmitool-fru.txt'],
  lldp: ['lldpctl.json', 'lldpctl.txt'],
  cpuinfo: ['cpuinfo'],
  meminfo: ['meminfo'],
  /** `lspci -Dvmmnk`: PCI ids and bound drivers (finds NICs with no driver). */
  lspci: ['lspci.txt'],
  /** `key=value` lines from /sys/class/dmi/id (when dmidecode cannot read SMBIOS). */
  dmiId: ['dmi-id.txt'],
  /** `uefi` or `bios`: whether /sys/firmware/efi exists. */
  bootMode: ['boot-mode.txt'],
} as const;

/** One logical tool output. */
export type ToolKey = keyof typeof TOOL_FILES;

/** Per-NIC `ethtool -i` outputs are saved as `ethtool-<nic>.txt`. */
export const ETHTOOL_FILE = /^ethtool-([A-Za-z0-9_.:@-]{1,64})\.txt$/;

/** Collector failure as the inventory reports it. */
export type CollectorError = Inventory['collector_errors'][number];

/** Raw outputs by file name plus the failures met while getting them. */
export interface ToolOutputs {
  files: Map<string, string>;
  errors: CollectorError[];
}

/** The first present output for a logical tool. */
export function toolText(out: ToolOutputs, key: ToolKey): string | undefined {
  for (const f of TOOL_FILES[key]) {
    const t = out.files.get(f);
    if (t !== undefined && t.trim() !== '') return t;
  }
  return undefined;
}

/** Every saved `ethtool -i` output by NIC name. */
export function ethtoolTexts(out: ToolOutputs): Map<string, string> {
  const m = new Map<string, string>();
  for (const [f, t] of out.files) {
    const x = ETHTOOL_FILE.exec(f);
    if (x) m.set(x[1]!, t);
  }
  return m;
}
