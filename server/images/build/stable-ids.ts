/**
 * Identifiers for a built image that are the same on every build of the same recipe (reproducible
 * builds) yet distinct per purpose: SHA-256 of a seed, shaped as an RFC 9562 version-4 UUID (the
 * version and variant bits set, the rest from the hash) or a FAT volume serial. Pure.
 */
import { createHash } from 'node:crypto';

const digest = (seed: string, purpose: string) => createHash('sha256').update(`${seed}\0${purpose}`).digest();

/** A UUID derived from `seed` and `purpose`. */
export function stableUuid(seed: string, purpose: string): string {
  const b = digest(seed, purpose).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40; // RFC 9562 5.4: version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 4.1: variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A FAT volume serial number (what Linux shows as the vfat UUID, XXXX-XXXX). */
export function stableVolumeId(seed: string, purpose: string): string {
  const h = digest(seed, purpose).subarray(0, 4).toString('hex').toUpperCase();
  return `${h.slice(0, 4)}-${h.slice(4)}`;
}
