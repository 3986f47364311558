/**
 * The one collector table: for each output the agent reads, how a live agent gets it (a program run with
 * execFile, a file, a walk of /sys), the file names it is saved under for replay (`collect DIR`,
 * `--from DIR`), and the pure parser that reads it. Adding a collector is one row here.
 */
import { parseDmiId } from '../parse/dmi-id.ts';
import { parseDmidecode } from '../parse/dmidecode.ts';
import { parseEthtoolInfo } from '../parse/ethtool.ts';
import { parseIpText } from '../parse/ip.ts';
import { fruProduct, parseIpmiFru, parseIpmiLan, parseIpmiMc } from '../parse/ipmitool.ts';
import { parseLldp } from '../parse/lldp.ts';
import { parseLsblk } from '../parse/lsblk.ts';
import { parseLscpu } from '../parse/lscpu.ts';
import { parseLspci } from '../parse/lspci.ts';
import { parseLshw } from '../parse/lshw.ts';
import { parseCpuinfo, parseMeminfo } from '../parse/proc.ts';
import { parseSecureBoot } from '../parse/secure-boot.ts';
import { lldpCaptureText, parseLldpFrames } from './lldp-captures.ts';
import { bootModeText, dmiIdText, secureBootText, sysfsPci } from './sysfs.ts';
import { sysfsBlockText, withSysfsIdentity } from './sysfs-block.ts';
import { sysfsNetText } from './sysfs-net.ts';

/** Stands for a NIC name in the arguments and file name of a per-NIC row (run once per physical NIC). */
export const NIC = '{nic}';

/** How a live agent gets one output. */
export type CollectorSource =
  /** A program, run directly (no shell) with `LC_ALL=C` and a timeout. */
  | { run: string; args: readonly string[] }
  /** A file under the root (`/proc/cpuinfo`). */
  | { read: string }
  /** A walk of /sys that always yields some text. */
  | { gather: (root: string) => Promise<string> };

/** One collector. */
export interface Collector<T> {
  /** Replay file names, preferred first (JSON forms, then text forms); live collection saves under the first. */
  files: readonly string[];
  source: CollectorSource;
  /** Pure parser (never throws on hostile text; the inventory guards it anyway). */
  parse: (text: string) => T;
  /** Label in `collector_errors` (default: the program, or the row's key). */
  label?: string;
  /** Why a successful run is still unusable (dmidecode without an SMBIOS table); undefined keeps it. */
  reject?: (text: string) => string | undefined;
  /**
   * Where the same text comes from when the source gave nothing (lspci missing: /sys/bus/pci), and what the
   * register-first pass uses instead of the program (it runs none).
   */
  fallback?: (root: string) => Promise<string>;
  /**
   * Fills into the program's own output what the program could not learn on this host but /sys has (lsblk asks
   * udev for a SATA or SAS disk's serial, and the microkernel runs no udev). Returns the text unchanged when there
   * is nothing to add.
   */
  supplement?: (text: string, root: string) => Promise<string>;
  /** Run after `--lldp-wait` (neighbours need time to be heard; 802.1AB TTL is 30 s by default). */
  late?: boolean;
  /**
   * Slow or optional for identifying and tagging the machine (lshw, the BMC, LLDP): left out of the agent's
   * first, fast register and sent in the complete one right after (register-first, docs/agent.md).
   */
  slow?: boolean;
  /** A host without the program is normal (lldpctl without lldpd): its absence is not a collector error. */
  optional?: boolean;
}

/** A row, with its parser's type kept (so the inventory gets typed values out of the table). */
function row<T>(c: Collector<T>): Collector<T> {
  return c;
}

/** Every collector, in the order a live run starts them (two programs at a time). */
export const COLLECTORS = {
  // SMBIOS types the inventory uses: BIOS, system, board, chassis, CPU, DIMMs, IPMI, host interface.
  dmidecode: row({
    files: ['dmidecode.txt'],
    source: { run: 'dmidecode', args: ['-t', '0', '-t', '1', '-t', '2', '-t', '3', '-t', '4', '-t', '17', '-t', '38', '-t', '42'] },
    parse: parseDmidecode,
    reject: (t) =>
      t.includes('Handle ')
        ? undefined
        : 'dmidecode found no SMBIOS table (container or VM without one); /sys/class/dmi/id is used instead',
  }),
  lshw: row({ files: ['lshw.json'], source: { run: 'lshw', args: ['-json', '-quiet'] }, parse: parseLshw, slow: true }),
  lscpu: row({ files: ['lscpu.json', 'lscpu.txt'], source: { run: 'lscpu', args: ['-J'] }, parse: parseLscpu }),
  lsblk: row({
    files: ['lsblk.json', 'lsblk.txt'],
    source: { run: 'lsblk', args: ['-J', '-b', '-O'] },
    parse: parseLsblk,
    fallback: sysfsBlockText,
    supplement: withSysfsIdentity,
  }),
  ipAddr: row({
    files: ['ip-addr.json', 'ip-addr.txt'],
    source: { run: 'ip', args: ['-j', 'addr'] },
    parse: parseIpText,
    fallback: sysfsNetText,
  }),
  ipLink: row({ files: ['ip-link.json', 'ip-link.txt'], source: { run: 'ip', args: ['-j', '-d', 'link'] }, parse: parseIpText }),
  /** `lspci -Dvmmnk`: PCI ids and bound drivers (finds NICs with no driver). */
  lspci: row({ files: ['lspci.txt'], source: { run: 'lspci', args: ['-Dvmmnk'] }, parse: parseLspci, fallback: sysfsPci }),
  ipmiLan: row({
    files: ['ipmitool-lan.txt'],
    source: { run: 'ipmitool', args: ['lan', 'print'] },
    parse: parseIpmiLan,
    label: 'ipmitool lan',
    slow: true,
  }),
  ipmiMc: row({
    files: ['ipmitool-mc.txt'],
    source: { run: 'ipmitool', args: ['mc', 'info'] },
    parse: parseIpmiMc,
    label: 'ipmitool mc',
    slow: true,
  }),
  ipmiFru: row({
    files: ['ipmitool-fru.txt'],
    source: { run: 'ipmitool', args: ['fru', 'print'] },
    parse: (t) => fruProduct(parseIpmiFru(t)),
    label: 'ipmitool fru',
    slow: true,
  }),
  cpuinfo: row({ files: ['cpuinfo'], source: { read: 'proc/cpuinfo' }, parse: parseCpuinfo }),
  meminfo: row({ files: ['meminfo'], source: { read: 'proc/meminfo' }, parse: parseMeminfo }),
  /** `key=value` lines from /sys/class/dmi/id (when dmidecode cannot read SMBIOS). */
  dmiId: row({ files: ['dmi-id.txt'], source: { gather: dmiIdText }, parse: parseDmiId }),
  /** `uefi` or `bios`: whether /sys/firmware/efi exists. */
  bootMode: row({ files: ['boot-mode.txt'], source: { gather: bootModeText }, parse: (t) => t.trim().toLowerCase() }),
  /** The UEFI SecureBoot variable from efivarfs: the `secure_boot` fact. */
  secureBoot: row({ files: ['secure-boot.txt'], source: { gather: secureBootText }, parse: parseSecureBoot }),
  /** Per physical NIC (from the ipAddr row): driver, version, firmware, bus. */
  ethtool: row({ files: [`ethtool-${NIC}.txt`], source: { run: 'ethtool', args: ['-i', NIC] }, parse: parseEthtoolInfo }),
  /** The microkernel's own LLDP: frames lldp-capture recorded, decoded here (no lldpd in the image). */
  lldpFrames: row({
    files: ['lldp-frames.json'],
    source: { gather: (root) => lldpCaptureText(root) },
    parse: parseLldpFrames,
    label: 'lldp capture',
    late: true,
    slow: true,
  }),
  /** lldpd's view, on a host that runs it (`crashcart-agent collect` on an installed system; older replays). */
  lldp: row({
    files: ['lldpctl.json', 'lldpctl.txt'],
    source: { run: 'lldpctl', args: ['-f', 'json'] },
    parse: parseLldp,
    late: true,
    slow: true,
    optional: true,
  }),
};

/** One collector's key. */
export type CollectorKey = keyof typeof COLLECTORS;

/** What a collector's parser returns. */
export type Parsed<K extends CollectorKey> = ReturnType<(typeof COLLECTORS)[K]['parse']>;

/** The rows as a list (for runners that do not care about the parser's type). */
export const COLLECTOR_LIST: readonly (readonly [CollectorKey, Collector<unknown>])[] = Object.entries(COLLECTORS) as [
  CollectorKey,
  Collector<unknown>,
][];

/** True for a per-NIC row (its file name holds `{nic}`). */
export function isPerNic(c: Collector<unknown>): boolean {
  return c.files.some((f) => f.includes(NIC));
}

/** NIC names as they may appear in a replay file name (kernel names: no '/', no whitespace; bounded). */
const NIC_NAME = '([A-Za-z0-9_.:@-]{1,64})';

/** A per-NIC file name template as a RegExp capturing the NIC name. */
export function nicFilePattern(template: string): RegExp {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${template.split(NIC).map(esc).join(NIC_NAME)}$`);
}

/** Replace `{nic}` in a template. */
export function forNic(template: string, nic: string): string {
  return template.split(NIC).join(nic);
}
