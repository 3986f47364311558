/**
 * Collectors that walk /proc and /sys instead of running a program (no root needed for most fields).
 * Each takes the root (`/`, or a fixture tree in tests) and always resolves with some text.
 */
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

/** The /sys/class/dmi/id fields the inventory falls back on when dmidecode has no SMBIOS table. */
const DMI_ID_KEYS = [
  'sys_vendor',
  'product_name',
  'product_version',
  'product_serial',
  'product_uuid',
  'board_name',
  'board_serial',
  'bios_vendor',
  'bios_version',
  'bios_date',
  'chassis_type',
];

/** Read /sys/class/dmi/id as key=value lines. */
export async function dmiIdText(root: string): Promise<string> {
  const dir = path.join(root, 'sys/class/dmi/id');
  const rows: string[] = [];
  for (const k of DMI_ID_KEYS) {
    try {
      rows.push(`${k}=${(await readFile(path.join(dir, k), 'utf8')).trim()}`);
    } catch {
      // unreadable without root (serials, uuid): dmidecode or lshw supply them when they can
    }
  }
  return rows.join('\n');
}

/** `uefi` when the firmware handed Linux an EFI system table (/sys/firmware/efi exists), else `bios`. */
export async function bootModeText(root: string): Promise<string> {
  return access(path.join(root, 'sys/firmware/efi')).then(
    () => 'uefi',
    () => 'bios',
  );
}

/** The UEFI global variable SecureBoot (vendor GUID EFI_GLOBAL_VARIABLE, UEFI 2.10 3.3) under efivarfs. */
const SECURE_BOOT_VAR = 'sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

/**
 * `SecureBoot=<hex>` from efivarfs (readable without root, and under kernel lockdown); `SecureBoot=absent`
 * when efivarfs lists variables but not that one; empty when there is no efivarfs (BIOS, not mounted).
 */
export async function secureBootText(root: string): Promise<string> {
  try {
    return `SecureBoot=${(await readFile(path.join(root, SECURE_BOOT_VAR))).toString('hex').slice(0, 64)}`;
  } catch {
    const vars = await readdir(path.join(root, 'sys/firmware/efi/efivars')).catch(() => []);
    return vars.length > 0 ? 'SecureBoot=absent' : '';
  }
}

/** Fallback when lspci is missing: the same records from /sys/bus/pci/devices. */
export async function sysfsPci(root: string): Promise<string> {
  const dir = path.join(root, 'sys/bus/pci/devices');
  let slots: string[] = [];
  try {
    slots = (await readdir(dir)).slice(0, 4096);
  } catch {
    return '';
  }
  const recs: string[] = [];
  for (const s of slots) {
    const rd = (f: string): Promise<string> =>
      readFile(path.join(dir, s, f), 'utf8').then(
        (t) => t.trim().replace(/^0x/, ''),
        () => '',
      );
    const cls = (await rd('class')).slice(0, 4);
    const drv = await readlink(path.join(dir, s, 'driver')).then(
      (l) => path.basename(l),
      () => '',
    );
    recs.push(
      [`Slot:\t${s}`, `Class:\t${cls}`, `Vendor:\t${await rd('vendor')}`, `Device:\t${await rd('device')}`, drv ? `Driver:\t${drv}` : '']
        .filter(Boolean)
        .join('\n'),
    );
  }
  return recs.join('\n\n');
}
