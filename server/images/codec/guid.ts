/**
 * GUIDs as GPT stores them (UEFI 2.10 Appendix A: the first three fields little-endian, the last
 * two big-endian), shown in the canonical lowercase 8-4-4-4-12 form. Pure.
 */
import { MalformedPacket } from '../../net/malformed.ts';

/** Canonical GUID text: 8-4-4-4-12 lowercase hex. */
export const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The all-zero GUID (an unused GPT entry's type). */
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

const hex = (b: Uint8Array, a: number, e: number, reverse: boolean): string => {
  const part = Array.from(b.subarray(a, e), (x) => x.toString(16).padStart(2, '0'));
  return (reverse ? part.reverse() : part).join('');
};

/** Decode the 16 bytes at `o` of `b` into canonical text. */
export function decodeGuid(b: Uint8Array, o: number): string {
  if (o < 0 || o + 16 > b.length) throw new MalformedPacket('gpt', o, 'GUID runs past the end');
  return [
    hex(b, o, o + 4, true),
    hex(b, o + 4, o + 6, true),
    hex(b, o + 6, o + 8, true),
    hex(b, o + 8, o + 10, false),
    hex(b, o + 10, o + 16, false),
  ].join('-');
}

/** Encode canonical GUID text into 16 bytes at `o` of `b`. */
export function encodeGuid(guid: string, b: Uint8Array, o: number): void {
  const g = guid.toLowerCase();
  if (!GUID_TEXT.test(g)) throw new MalformedPacket('gpt', o, `"${guid}" is not a GUID`);
  const h = g.replaceAll('-', '');
  const bytes = Array.from({ length: 16 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  order.forEach((src, i) => (b[o + i] = bytes[src]!));
}
