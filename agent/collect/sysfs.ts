/**
 * Collectors that walk /proc and /sys instead of running a program (no root needed for most fields).
 * Each takes the root (`/`, or a fixture tree in tests) and always resolves with some text. They read
 * synchronously: these files live in kernel memory and read in microseconds, while each asynchronous read is
 * four or five round trips through libuv's thread pool (open, stat, read, close), which on an emulated CPU
 * cost more than the whole walk (the register-first pass reads a few hundred of them).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readLink, readText, listDir } from './sys-read.ts';

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
    // Unreadable without root (serials, uuid): dmidecode or lshw supply them when they can.
    const v = readText(path.join(dir, k));
    if (v !== undefined) rows.push(`${k}=${v.trim()}`);
  }
  return rows.join('\n');
}

/** `uefi` when the firmware handed Linux an EFI system table (/sys/firmware/efi exists), else `bios`. */
export async function bootModeText(root: string): Promise<string> {
  return existsSync(path.join(root, 'sys/firmware/efi')) ? 'uefi' : 'bios';
}

/** The UEFI global variable SecureBoot (vendor GUID EFI_GLOBAL_VARIABLE, UEFI 2.10 3.3) under efivarfs. */
const SECURE_BOOT_VAR = 'sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

/**
 * `SecureBoot=<hex>` from efivarfs (readable without root, and under kernel lockdown); `SecureBoot=absent`
 * when efivarfs lists variables but not that one; empty when there is no efivarfs (BIOS, not mounted).
 */
export async function secureBootText(root: string): Promise<string> {
  const v = readText(path.join(root, SECURE_BOOT_VAR), 'hex');
  if (v !== undefined) return `SecureBoot=${v.slice(0, 64)}`;
  return listDir(path.join(root, 'sys/firmware/efi/efivars')).length > 0 ? 'SecureBoot=absent' : '';
}

/** Fallback when lspci is missing: the same records from /sys/bus/pci/devices. */
export async function sysfsPci(root: string): Promise<string> {
  const dir = path.join(root, 'sys/bus/pci/devices');
  const slots = listDir(dir).slice(0, 4096);
  if (slots.length === 0) return '';
  const recs: string[] = [];
  for (const s of slots) {
    const rd = (f: string): string => (readText(path.join(dir, s, f)) ?? '').trim().replace(/^0x/, '');
    const cls = rd('class').slice(0, 4);
    const link = readLink(path.join(dir, s, 'driver'));
    const drv = link === undefined ? '' : path.basename(link);
    recs.push(
      [`Slot:\t${s}`, `Class:\t${cls}`, `Vendor:\t${rd('vendor')}`, `Device:\t${rd('device')}`, drv ? `Driver:\t${drv}` : '']
        .filter(Boolean)
        .join('\n'),
    );
  }
  return recs.join('\n\n');
}
