/**
 * Lay out a new GPT disk (the image builder's partition table): the protective MBR, the primary
 * header and array at the start, and the backup array and header at the end (UEFI 2.10 5.3.1:
 * "the backup GPT header must be at the last LBA of the disk", its array just before it). Pure:
 * sizes and GUIDs in, the bytes to place at the head and the tail out.
 */
import { crc32 } from './crc32.ts';
import { encodeDiskHead, type GptDiskHead } from './partition-table.ts';
import { protectiveMbr, BOOT_CODE_LEN } from './mbr.ts';
import {
  encodeGptEntries,
  encodeGptHeader,
  gptEntriesEncodedLength,
  sealGptHeader,
  GPT_DEFAULT_ENTRIES,
  GPT_ENTRY_SIZE,
  GPT_HEADER_SIZE,
  GPT_REVISION,
  type GptEntry,
  type GptHeader,
} from './gpt.ts';

/** One partition to create. */
export interface NewPartition {
  typeGuid: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  name: string;
  attributes?: bigint;
}

/** The bytes of a new GPT disk's metadata. */
export interface GptLayout {
  head: GptDiskHead;
  /** LBA 0 up to the end of the primary array. */
  headBytes: Uint8Array;
  /** Backup array + backup header, to be written at `tailOffset`. */
  tailBytes: Uint8Array;
  tailOffset: number;
}

/** Build the GPT metadata of a disk of `diskSectors` 512-byte sectors. */
export function layoutGpt(diskSectors: number, diskGuid: string, parts: NewPartition[], bootCode?: Uint8Array): GptLayout {
  const sector = 512;
  const arraySectors = (GPT_DEFAULT_ENTRIES * GPT_ENTRY_SIZE) / sector;
  const lastLba = diskSectors - 1;
  const entries: GptEntry[] = parts.map((p, index) => ({
    index,
    typeGuid: p.typeGuid,
    uniqueGuid: p.uniqueGuid,
    firstLba: p.firstLba,
    lastLba: p.lastLba,
    attributes: p.attributes ?? 0n,
    name: p.name,
    extra: new Uint8Array(0),
  }));
  const shape = { numEntries: GPT_DEFAULT_ENTRIES, entrySize: GPT_ENTRY_SIZE };
  const array = encodeGptEntries(entries, shape);
  const base: GptHeader = {
    revision: GPT_REVISION,
    headerSize: GPT_HEADER_SIZE,
    headerCrc: 0,
    reserved: 0,
    myLba: 1,
    alternateLba: lastLba,
    firstUsableLba: 2 + arraySectors,
    lastUsableLba: lastLba - arraySectors - 1,
    diskGuid,
    entriesLba: 2,
    ...shape,
    entriesCrc: crc32(array),
    tail: new Uint8Array(sector - GPT_HEADER_SIZE),
  };
  for (const p of parts) {
    if (p.firstLba < base.firstUsableLba || p.lastLba > base.lastUsableLba || p.firstLba > p.lastLba)
      throw new RangeError(
        `partition "${p.name}" (LBA ${p.firstLba}..${p.lastLba}) is outside ${base.firstUsableLba}..${base.lastUsableLba}`,
      );
  }
  const primary = sealGptHeader(base);
  const backup = sealGptHeader({ ...base, myLba: lastLba, alternateLba: 1, entriesLba: lastLba - arraySectors });
  const head: GptDiskHead = {
    kind: 'gpt',
    sectorSize: sector,
    mbr: protectiveMbr(diskSectors, bootCode ?? new Uint8Array(BOOT_CODE_LEN)),
    lba0Tail: new Uint8Array(0),
    header: primary,
    gap: new Uint8Array(0),
    entries,
  };
  const tailBytes = new Uint8Array(gptEntriesEncodedLength(shape) + sector);
  tailBytes.set(array, 0);
  tailBytes.set(encodeGptHeader(backup), array.length);
  return { head, headBytes: encodeDiskHead(head), tailBytes, tailOffset: backup.entriesLba * sector };
}
