/**
 * Which erase methods to try on one disk, strongest first (docs/deploy.md "Erase"), and how an erase is
 * checked. NVMe Format with Secure Erase Settings and ATA SECURITY ERASE UNIT are carried out by the
 * drive's firmware, which also reaches spare and remapped blocks no host write can; a discard (TRIM/UNMAP)
 * is advisory, so a discarded disk is read back at sample points and overwritten when they are not zero;
 * the overwrite pass writes zeros over every addressable byte (NIST SP 800-88r1 "Clear"). Pure.
 */
import type { EraseMethod } from '../../contract/agent-tasks.ts';
import { ataEraseRefusal, type AtaSecurity } from '../parse/hdparm-security.ts';
import type { NvmeEraseCaps } from '../parse/nvme-id-ctrl.ts';

/** What a disk offers, as probed (undefined: not that kind of disk, null: probed and unreadable). */
export interface DiskEraseCaps {
  nvme?: NvmeEraseCaps | null;
  ata?: AtaSecurity | null;
  /** The kernel's queue/discard_max_bytes is above zero. */
  discard: boolean;
}

/** The methods to try in order, and why each stronger one is skipped. */
export interface ErasePlan {
  methods: EraseMethod[];
  skipped: string[];
}

/** Plan the erase of one disk. */
export function planErase(c: DiskEraseCaps, overwriteOnly: boolean): ErasePlan {
  const methods: EraseMethod[] = [];
  const skipped: string[] = [];
  if (overwriteOnly) return { methods: ['overwrite'], skipped: ['the policy asks for an overwrite only'] };
  if (c.nvme !== undefined) {
    if (c.nvme?.format) methods.push('nvme-format');
    else skipped.push(c.nvme ? 'the NVMe controller does not offer Format NVM' : 'nvme id-ctrl could not be read');
  }
  if (c.ata !== undefined) {
    const why = ataEraseRefusal(c.ata);
    if (why === null) methods.push('ata-secure-erase');
    else skipped.push(`ATA secure erase: ${why}`);
  }
  if (c.discard) methods.push('blkdiscard');
  else skipped.push('the disk does not take discards');
  methods.push('overwrite');
  return { methods, skipped };
}

/** Size of each sample read back after a discard. */
export const SAMPLE_BYTES = 64 * 1024;
/** Samples spread over the disk (plus its first and last); a discard that was ignored shows in every one. */
export const SAMPLE_COUNT = 64;

/** Offsets of the sample reads for a disk of `size` bytes: start, end, and evenly between, 4 KiB aligned. */
export function sampleOffsets(size: number, count = SAMPLE_COUNT, sample = SAMPLE_BYTES): number[] {
  if (size <= sample) return [0];
  const last = Math.floor((size - sample) / 4096) * 4096;
  const out = new Set<number>([0, last]);
  for (let i = 1; i < count - 1; i++) out.add(Math.floor((last * i) / (count - 1) / 4096) * 4096);
  return [...out].sort((a, b) => a - b);
}

/** True when every byte of `b` is zero. */
export function allZero(b: Uint8Array): boolean {
  // Eight bytes at a time where the buffer allows it: the check runs over every sample of every disk.
  const whole = b.length - (b.length % 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < whole; i += 8) if (dv.getBigUint64(i) !== 0n) return false;
  for (let i = whole; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
