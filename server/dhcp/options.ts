/**
 * Reading and writing options through the one table (option-table.ts):
 * collect a message's options (overload, RFC 3396 concatenation), read one as
 * its typed value, encode one for a reply. Pure; every decode failure is a
 * MalformedPacket naming the option.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { parseOptionList, type DhcpPacket, type DhcpOption } from './codec.ts';
import { OPTIONS, OPTION_BY_CODE, type OptionRow } from './option-table.ts';
import { tlv } from './structured-codecs.ts';

export { OPT, OPTIONS } from './option-table.ts';

/** RFC 2132 9.6 message types. */
export const MSG = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
/** Message type names for events, logs and dumps. */
export const MSG_NAME: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};

/** PXE 2.1 option 43 sub-option 6: discovery control. */
export const PXE_DISCOVERY_CONTROL = 6;
/** Discovery control bit 3: "boot the file in the DHCP offer, skip boot-server discovery". */
export const PXE_SKIP_DISCOVERY = 8;
/** PXE 2.1 option 43 sub-option 71: boot item (type, layer), echoed by the boot server. */
export const PXE_BOOT_ITEM = 71;
/** iPXE encapsulated option (inside 175) 176, no-pxedhcp: do not wait for ProxyDHCP offers. */
export const IPXE_NO_PXEDHCP = 176;

const PROTO = 'dhcp';
/** Offset reported for a bad option value: the start of the options field (the collected map has no positions). */
const OPTIONS_AT = 240;

/** The options of one message keyed by code (raw data). */
export type OptionMap = Map<number, Uint8Array>;

/**
 * All options of a message keyed by code, with option overload (52) applied
 * and repeated codes concatenated (RFC 2131 4.1 order: options, file, sname;
 * RFC 3396 concatenation). Throws MalformedPacket.
 */
export function collectOptions(pkt: DhcpPacket): OptionMap {
  const parts = new Map<number, Uint8Array[]>();
  const add = (list: DhcpOption[]) => {
    for (const o of list) {
      if (o.code === 0) continue;
      const l = parts.get(o.code);
      if (l) l.push(o.data);
      else parts.set(o.code, [o.data]);
    }
  };
  add(pkt.options);
  const ov = parts.get(OPTIONS.OVERLOAD.code);
  if (ov) {
    const v = ov[0];
    if (ov.length !== 1 || !v || v.length !== 1 || (v[0] as number) < 1 || (v[0] as number) > 3)
      throw new MalformedPacket(PROTO, OPTIONS_AT, 'option 52 (overload) must be one byte 1, 2 or 3');
    const flag = v[0] as number;
    if (flag & 1) add(parseOptionList(pkt.file, 0, pkt.file.length).options);
    if (flag & 2) add(parseOptionList(pkt.sname, 0, pkt.sname.length).options);
  }
  const out: OptionMap = new Map();
  for (const [code, list] of parts) out.set(code, list.length === 1 ? (list[0] as Uint8Array) : new Uint8Array(Buffer.concat(list)));
  return out;
}

/** Decode option data with a row's codec; a failure names the option. */
export function decodeWith<T>(row: OptionRow<number, T>, data: Uint8Array): T {
  try {
    return row.codec.decode(data);
  } catch (e) {
    if (e instanceof MalformedPacket)
      throw new MalformedPacket(PROTO, OPTIONS_AT + e.offset, `option ${row.code} (${row.name}) ${e.reason}`);
    throw e;
  }
}

/** One option as its typed value, or null when absent. Throws MalformedPacket. */
export function readOption<T>(opts: OptionMap, row: OptionRow<number, T>): T | null {
  const v = opts.get(row.code);
  return v === undefined ? null : decodeWith(row, v);
}

/** One option for a reply: [code, encoded value]. */
export function option<T>(row: OptionRow<number, T>, value: T): [number, Uint8Array] {
  return [row.code, row.codec.encode(value)];
}

/** Option 53, or null when absent (plain BOOTP). RFC 2132 9.6: one byte 1..8. */
export function messageType(opts: OptionMap): number | null {
  const t = readOption(opts, OPTIONS.MESSAGE_TYPE);
  if (t !== null && (t < 1 || t > 8)) throw new MalformedPacket(PROTO, OPTIONS_AT, `option 53 (message-type) ${t} is not 1..8`);
  return t;
}

/** A sub-option list (43, 82, 175) as a map; later duplicates win. Throws MalformedPacket naming the option. */
export function subOptions(data: Uint8Array, code: number): Map<number, Uint8Array> {
  return new Map(decodeWith({ code, name: OPTION_BY_CODE.get(code)?.name ?? 'sub-options', codec: tlv }, data));
}
