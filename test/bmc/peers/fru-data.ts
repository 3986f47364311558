/**
 * FRU inventory bytes for the simulated BMC (ipmi_sim `mc_add_fru_data`), written from the IPMI Platform
 * Management FRU Information Storage Definition v1.0: an 8-byte common header (section 8) pointing at a
 * product info area (section 11) whose fields are type/length bytes (section 13, 0xC0 | length = 8-bit ASCII).
 * Offsets and area lengths count 8-byte blocks; every header and area ends with a zero-sum checksum.
 */

/** Zero-sum checksum of `bytes` (the byte that makes their sum 0 mod 256). */
const checksum = (bytes: number[]): number => (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;

/** One type/length field: 8-bit ASCII, at most 63 bytes (6-bit length). */
function field(text: string): number[] {
  const b = [...Buffer.from(text, 'latin1')].slice(0, 63);
  return [0xc0 | b.length, ...b];
}

/** What the product info area says. */
export interface FruProduct {
  manufacturer: string;
  name: string;
  serial: string;
}

/** The FRU image (common header + product info area). */
export function fruImage(p: FruProduct): number[] {
  // Product area: version, length, language 0 (English), then manufacturer, name, part, version, serial, asset tag,
  // FRU file id, the end marker 0xC1, padding to a multiple of 8 and the checksum.
  const body = [
    0x01,
    0x00,
    0x00,
    ...field(p.manufacturer),
    ...field(p.name),
    ...field(''),
    ...field(''),
    ...field(p.serial),
    ...field(''),
    ...field(''),
    0xc1,
  ];
  while ((body.length + 1) % 8 !== 0) body.push(0);
  body[1] = (body.length + 1) / 8;
  const area = [...body, checksum(body)];
  // Common header: format 1, no internal/chassis/board area, product area at block 1, no multi-record area.
  const header = [0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
  return [...header, checksum(header), ...area];
}

/** The ipmi_sim emulator command that installs the image as FRU device 0 of the BMC at 0x20. */
export function fruEmuCommand(p: FruProduct): string {
  const img = fruImage(p);
  return `mc_add_fru_data 0x20 0 ${img.length} data ${img.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ')}`;
}
