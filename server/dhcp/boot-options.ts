/**
 * The options that tell a boot client what to load (PXE 2.1, RFC 4578, iPXE):
 * 60 answered as PXEClient/HTTPClient, 97 echoed, 43 discovery control 8 when
 * wanted, 175/176 for iPXE, 67 when the file does not fit the `file` field (which then stays empty,
 * reply.ts). Pure.
 */
import { IPXE_NO_PXEDHCP, OPTIONS, PXE_DISCOVERY_CONTROL, PXE_SKIP_DISCOVERY, option } from './options.ts';
import { tlv } from './structured-codecs.ts';
import type { BootChoice } from './classify.ts';
import type { Request } from './request.ts';
import { FILE_FIELD_MAX } from './reply.ts';

/** Option data is at most 255 bytes (RFC 2132 2) without RFC 3396 splitting. */
const OPTION_MAX = 255;

/**
 * The option data every reply of a kind carries, encoded once at load: 43 with discovery control 8, 175 with
 * 176 = 1, and the two vendor classes we answer with. Built per reply through the codecs (`tlv.encode` nests
 * `Buffer.concat` and `Buffer.from`), they cost allocations on every PXE and iPXE answer and pulled Node's Buffer
 * internals into `bootOptions`' optimised code, one of the last functions compiled after the DHCP warm start
 * (docs/perf/changes.md). Shared read-only: `encode` copies option data into the packet.
 */
const PXE_DISCOVERY_43 = tlv.encode([[PXE_DISCOVERY_CONTROL, Uint8Array.of(PXE_SKIP_DISCOVERY)]]);
const IPXE_NO_PXEDHCP_175 = option(OPTIONS.IPXE_ENCAP, [[IPXE_NO_PXEDHCP, Uint8Array.of(1)]])[1];
const VENDOR_CLASS_DATA: Readonly<Record<NonNullable<BootChoice['vendorClass']>, Uint8Array>> = {
  PXEClient: option(OPTIONS.VENDOR_CLASS, 'PXEClient')[1],
  HTTPClient: option(OPTIONS.VENDOR_CLASS, 'HTTPClient')[1],
};

/**
 * Boot options for a reply. `send43`: PXE discovery control 8 ("boot the file in
 * this offer"); `noPxeDhcp`: tell iPXE not to wait ~3 s for ProxyDHCP offers.
 */
export function bootOptions(r: Request, c: BootChoice, send43: boolean, noPxeDhcp: boolean): [number, Uint8Array][] {
  const o: [number, Uint8Array][] = [];
  if (c.vendorClass) o.push([OPTIONS.VENDOR_CLASS.code, VENDOR_CLASS_DATA[c.vendorClass]]);
  // PXE 2.1: the client's GUID is echoed unchanged, even when it is not a valid type-0 GUID.
  const guid = r.opts.get(OPTIONS.CLIENT_GUID.code);
  if (guid) o.push([OPTIONS.CLIENT_GUID.code, guid]);
  if (send43) o.push([OPTIONS.VENDOR_SPECIFIC.code, PXE_DISCOVERY_43]);
  if (noPxeDhcp && r.facts.ipxe) o.push([OPTIONS.IPXE_ENCAP.code, IPXE_NO_PXEDHCP_175]);
  if (c.file.length > FILE_FIELD_MAX) o.push(option(OPTIONS.BOOTFILE, c.file.slice(0, OPTION_MAX)));
  return o;
}
