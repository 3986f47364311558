/**
 * Which firmware can boot a disk image, decided from what is on it (pure: facts in, verdict out).
 * BIOS: the BIOS runs the MBR's boot code, so there must be code, and somewhere for a boot loader to
 * continue from: a BIOS boot partition on GPT (where GRUB embeds core.img), a partition with the
 * GPT "legacy BIOS bootable" attribute (UEFI 2.10 5.3.3 bit 2), or on MBR disks an active partition
 * or GRUB's boot.img (which loads core.img from the gap after the MBR). UEFI: a freshly written
 * disk has no boot entry in the firmware's NVRAM, so it boots only through the removable-media
 * fallback path \EFI\BOOT\BOOTX64.EFI on an EFI system partition (UEFI 2.10 3.5.1.1).
 */
import type { PartitionRole } from './codec/partition-types.ts';

/** Firmware an image boots with. */
export type BootFirmware = 'bios' | 'uefi' | 'both' | 'none';

/** What the inspector found that matters for booting. */
export interface BootEvidence {
  table: 'gpt' | 'mbr';
  /** The MBR's 440 bytes of boot code. */
  bootCode: Uint8Array;
  partitions: { number: number; role: PartitionRole; active: boolean; legacyBiosBootable: boolean }[];
  /** ESPs (by partition number) and whether each holds the fallback loader, plus the EFI/ folders seen. */
  esps: { number: number; fallback: boolean; vendors: string[] }[];
}

/** The verdict with the reason for each firmware, for the UI and docs. */
export interface BootVerdict {
  firmware: BootFirmware;
  bios: { ok: boolean; reason: string };
  uefi: { ok: boolean; reason: string };
}

/** "GRUB " is in i386-pc boot.img's message strings ("GRUB \0Geom\0Hard Disk\0Read\0 Error"). */
const GRUB_MARK = [0x47, 0x52, 0x55, 0x42, 0x20];

function hasMark(code: Uint8Array, mark: number[]): boolean {
  outer: for (let i = 0; i + mark.length <= code.length; i++) {
    for (let k = 0; k < mark.length; k++) if (code[i + k] !== mark[k]) continue outer;
    return true;
  }
  return false;
}

/** Decide BIOS and UEFI bootability. */
export function bootVerdict(e: BootEvidence): BootVerdict {
  const code = e.bootCode.some((b) => b !== 0);
  let bios: BootVerdict['bios'];
  if (!code) bios = { ok: false, reason: 'the MBR holds no boot code' };
  else if (e.table === 'gpt') {
    const bbp = e.partitions.find((p) => p.role === 'bios-boot');
    const legacy = e.partitions.find((p) => p.legacyBiosBootable);
    bios = bbp
      ? { ok: true, reason: `MBR boot code and a BIOS boot partition (${bbp.number})` }
      : legacy
        ? { ok: true, reason: `MBR boot code and a legacy-BIOS-bootable partition (${legacy.number})` }
        : { ok: false, reason: 'GPT disk without a BIOS boot partition or legacy-BIOS-bootable partition' };
  } else {
    const active = e.partitions.find((p) => p.active);
    bios = active
      ? { ok: true, reason: `MBR boot code and an active partition (${active.number})` }
      : hasMark(e.bootCode, GRUB_MARK)
        ? { ok: true, reason: 'GRUB boot code in the MBR' }
        : { ok: false, reason: 'MBR boot code but no active partition' };
  }
  const esp = e.esps.find((x) => x.fallback);
  const uefi: BootVerdict['uefi'] = esp
    ? { ok: true, reason: `EFI/BOOT/BOOTX64.EFI on the EFI system partition (${esp.number})` }
    : e.esps.length
      ? {
          ok: false,
          reason: `the EFI system partition has no EFI/BOOT/BOOTX64.EFI${e.esps[0]!.vendors.length ? ` (only EFI/${e.esps[0]!.vendors.join(', EFI/')})` : ''}: firmware without a boot entry for it will not find a loader`,
        }
      : { ok: false, reason: 'no EFI system partition' };
  const firmware: BootFirmware = bios.ok && uefi.ok ? 'both' : bios.ok ? 'bios' : uefi.ok ? 'uefi' : 'none';
  return { firmware, bios, uefi };
}
