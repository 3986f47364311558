/**
 * Operator-defined DHCP options (`--dhcp-option CODE|NAME=TYPE:VALUE`, repeatable):
 * parsed and encoded through the one option table, validated when the config is
 * loaded, sent in every full-mode OFFER/ACK. Pure apart from the catalog error.
 */
import { ccError } from '../errors/cc-error.ts';
import { OPTION_BY_CODE, OPTION_BY_NAME, VALUE_TYPES } from './option-table.ts';
import type { ValueCodec } from './value-codecs.ts';

/** One extra option as the config holds it (text, validated; encoded by the plugin). */
export interface ExtraOption {
  code: number;
  type: string;
  value: string;
}

/** Options the server decides per reply or per protocol rule; an operator may not set them (code -> why). */
export const RESERVED_OPTIONS: ReadonlyMap<number, string> = new Map([
  [0, 'pad is framing'],
  [255, 'end is framing'],
  [1, 'the subnet mask comes from the pool'],
  [28, 'the broadcast address comes from the pool'],
  [12, 'host names come from reservations'],
  [43, 'PXE vendor options are decided per client'],
  [60, 'the vendor class is answered per client (PXEClient/HTTPClient)'],
  [66, 'the TFTP server is the appliance (siaddr)'],
  [67, 'the boot file is decided per client'],
  [97, 'the client GUID is echoed per client'],
  [175, 'iPXE options are decided per client'],
  [82, 'relay agent information is echoed, never sent'],
  [61, 'the client identifier belongs to the client'],
  ...[50, 51, 52, 53, 54, 55, 56, 57, 58, 59].map((c) => [c, 'it is part of the DHCP exchange itself (RFC 2132 9)'] as [number, string]),
]);

/** All extra options together may add this many bytes to a reply: with the lease and boot options they still fit the 548 bytes every client accepts (RFC 2131 2) in most cases, and option overload (52) moves the rest. */
export const MAX_EXTRA_OPTION_BYTES = 255;

function fail(spec: string, why: string): never {
  throw ccError('CC_ERR_DHCP_OPTION_INVALID', `"${spec}": ${why}`);
}

/** The codec an extra option is encoded with, checking the code may be set and the type fits it. */
function codecFor(o: ExtraOption, spec: string): ValueCodec<unknown> {
  const reserved = RESERVED_OPTIONS.get(o.code);
  if (reserved) fail(spec, `option ${o.code} cannot be set: ${reserved}`);
  if (!Number.isInteger(o.code) || o.code < 1 || o.code > 254) fail(spec, `option code ${o.code} is not 1..254`);
  const row = OPTION_BY_CODE.get(o.code);
  const codec = VALUE_TYPES.get(o.type);
  if (!codec) fail(spec, `type "${o.type}" is not one of ${[...VALUE_TYPES.keys()].join(', ')}`);
  // A known option takes its own type; hex is always allowed as the raw escape hatch.
  if (row && o.type !== 'hex' && row.codec.type !== o.type)
    fail(spec, `option ${o.code} (${row.name}) is ${row.codec.type}, not ${o.type}`);
  return codec;
}

/** Encode one extra option; throws CC_ERR_DHCP_OPTION_INVALID naming what is wrong. */
export function encodeExtraOption(o: ExtraOption, spec = `${o.code}=${o.type}:${o.value}`): Uint8Array {
  const codec = codecFor(o, spec);
  let bytes: Uint8Array;
  try {
    bytes = codec.encode((codec.parse as (s: string) => unknown)(o.value));
  } catch (e) {
    return fail(spec, (e as Error).message);
  }
  if (bytes.length > 255) fail(spec, `the value is ${bytes.length} bytes; an option holds at most 255 (RFC 2132 2)`);
  return bytes;
}

/** Parse the flag form `CODE|NAME=TYPE:VALUE` (e.g. `42=ips:10.0.0.1`, `domain-search=domains:lab.example`). */
export function parseDhcpOptionFlag(spec: string): ExtraOption {
  const m = /^([a-z0-9-]+)=([a-z0-9]+):(.*)$/.exec(spec);
  if (!m) return fail(spec, 'write CODE=TYPE:VALUE or NAME=TYPE:VALUE, e.g. 42=ips:10.0.0.1');
  const [, key, type, value] = m as unknown as [string, string, string, string];
  const code = /^\d+$/.test(key) ? Number(key) : OPTION_BY_NAME.get(key)?.code;
  if (code === undefined) return fail(spec, `no option is named "${key}"; use its number (docs/dhcp.md lists the names)`);
  const o = { code, type, value };
  encodeExtraOption(o, spec);
  return o;
}

/** Validate and encode the whole list (config load and plugin start): no code twice, total size bounded. */
export function encodeExtraOptions(list: readonly ExtraOption[]): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let total = 0;
  for (const o of list) {
    const spec = `${o.code}=${o.type}:${o.value}`;
    if (out.some(([c]) => c === o.code)) fail(spec, `option ${o.code} is given twice`);
    const bytes = encodeExtraOption(o, spec);
    total += 2 + bytes.length;
    out.push([o.code, bytes]);
  }
  if (total > MAX_EXTRA_OPTION_BYTES)
    throw ccError('CC_ERR_DHCP_OPTION_INVALID', `the extra options add ${total} bytes to every reply; at most ${MAX_EXTRA_OPTION_BYTES}`);
  return out;
}
