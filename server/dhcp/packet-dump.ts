/**
 * A human-readable dump of a DHCP message through the option table: header
 * fields, then every option in wire order with its name and typed value (the
 * golden reply files, debugging). Pure; a malformed option value is shown, not thrown.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { cString, parseOptionList, type DhcpOption, type DhcpPacket } from './codec.ts';
import { MSG_NAME } from './options.ts';
import { OPTION_BY_CODE, OPTIONS } from './option-table.ts';

/** One option as `  53 message-type = OFFER`. */
export function dumpOption(o: DhcpOption): string {
  const row = OPTION_BY_CODE.get(o.code);
  if (!row) return `  ${o.code} (unknown, ${o.data.length} bytes) = ${Buffer.from(o.data).toString('hex')}`;
  let value: string;
  try {
    const v = row.codec.decode(o.data);
    value = o.code === OPTIONS.MESSAGE_TYPE.code ? (MSG_NAME[v as number] ?? String(v)) : row.codec.format(v);
  } catch (e) {
    if (!(e instanceof MalformedPacket)) throw e;
    value = `(malformed: ${e.reason}) ${Buffer.from(o.data).toString('hex')}`;
  }
  return `  ${o.code} ${row.name} = ${value}`;
}

function optionLines(list: DhcpOption[]): string[] {
  const out: string[] = [];
  let pads = 0;
  for (const o of list) {
    if (o.code === 0) pads++;
    else out.push(dumpOption(o));
  }
  if (pads) out.push(`  (${pads} pad bytes)`);
  return out;
}

/** Options carried in sname/file under overload (RFC 2132 9.3), or null when the field is a plain string. */
function overloaded(field: Uint8Array, on: boolean): DhcpOption[] | null {
  if (!on) return null;
  try {
    return parseOptionList(field, 0, field.length).options;
  } catch {
    return null;
  }
}

/** Dump a whole message. */
export function dumpPacket(p: DhcpPacket): string[] {
  const ov = p.options.find((o) => o.code === OPTIONS.OVERLOAD.code)?.data[0] ?? 0;
  const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;
  const lines = [
    `op ${p.op} htype ${p.htype} hlen ${p.hlen} hops ${p.hops} xid ${hex(p.xid, 8)} secs ${p.secs} flags ${hex(p.flags, 4)}`,
    `ciaddr ${p.ciaddr} yiaddr ${p.yiaddr} siaddr ${p.siaddr} giaddr ${p.giaddr}`,
    `chaddr ${Buffer.from(p.chaddr).toString('hex')}`,
  ];
  const sname = overloaded(p.sname, (ov & 2) !== 0);
  const file = overloaded(p.file, (ov & 1) !== 0);
  lines.push(sname ? 'sname: options' : `sname ${JSON.stringify(cString(p.sname))}`);
  lines.push(file ? 'file: options' : `file ${JSON.stringify(cString(p.file))}`);
  lines.push(p.cookie ? 'options:' : 'no magic cookie (BOOTP)');
  lines.push(...optionLines(p.options));
  if (file) lines.push('options in file:', ...optionLines(file));
  if (sname) lines.push('options in sname:', ...optionLines(sname));
  lines.push(`${p.end ? 'end' : 'no end option'}, ${p.trailer.length} trailing bytes`);
  return lines;
}
