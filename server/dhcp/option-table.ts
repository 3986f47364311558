/**
 * THE option table: code -> { name, codec } for every DHCP option Crashcart
 * reads, writes or lets an operator set by name (RFC 2132, RFC 3004, RFC 3046,
 * RFC 3397, RFC 3442, RFC 4578, RFC 5859, PXE 2.1, iPXE). Adding an option is
 * one row here. Pure data.
 */
import { bool, hex, ipv4, ipv4List, text, u16, u16List, u32, u8, u8List, type ValueCodec } from './value-codecs.ts';
import { classlessRoutes, clientGuid, clientNdi, domainSearch, tlv, userClass } from './structured-codecs.ts';

/** One row of the table. */
export interface OptionRow<C extends number = number, T = unknown> {
  code: C;
  /** Name used in `--dhcp-option NAME=...`, dumps and docs (ISC/dnsmasq spelling where one exists). */
  name: string;
  codec: ValueCodec<T>;
}

function row<C extends number, T>(code: C, name: string, codec: ValueCodec<T>): OptionRow<C, T> {
  return { code, name, codec };
}

/** Every known option, by constant name. */
export const OPTIONS = {
  SUBNET_MASK: row(1, 'subnet-mask', ipv4),
  ROUTER: row(3, 'routers', ipv4List),
  DNS: row(6, 'domain-name-servers', ipv4List),
  HOSTNAME: row(12, 'host-name', text),
  DOMAIN_NAME: row(15, 'domain-name', text),
  MTU: row(26, 'interface-mtu', u16),
  BROADCAST: row(28, 'broadcast-address', ipv4),
  NTP: row(42, 'ntp-servers', ipv4List),
  // RFC 2132 8.4: opaque to all but the vendor; PXE clients use sub-options (read with subOptions()).
  VENDOR_SPECIFIC: row(43, 'vendor-encapsulated-options', hex),
  REQUESTED_IP: row(50, 'requested-address', ipv4),
  LEASE_TIME: row(51, 'lease-time', u32),
  OVERLOAD: row(52, 'option-overload', u8),
  MESSAGE_TYPE: row(53, 'message-type', u8),
  SERVER_ID: row(54, 'server-identifier', ipv4),
  PARAM_LIST: row(55, 'parameter-request-list', u8List),
  MESSAGE: row(56, 'message', text),
  MAX_MESSAGE: row(57, 'max-message-size', u16),
  RENEWAL_T1: row(58, 'renewal-time', u32),
  REBINDING_T2: row(59, 'rebinding-time', u32),
  VENDOR_CLASS: row(60, 'vendor-class-identifier', text),
  CLIENT_ID: row(61, 'client-identifier', hex),
  TFTP_SERVER: row(66, 'tftp-server-name', text),
  BOOTFILE: row(67, 'bootfile-name', text),
  USER_CLASS: row(77, 'user-class', userClass),
  RELAY_AGENT: row(82, 'relay-agent-information', tlv),
  CLIENT_ARCH: row(93, 'client-system-architecture', u16List),
  CLIENT_NDI: row(94, 'client-network-interface', clientNdi),
  CLIENT_GUID: row(97, 'client-machine-id', clientGuid),
  DOMAIN_SEARCH: row(119, 'domain-search', domainSearch),
  CLASSLESS_ROUTES: row(121, 'classless-static-routes', classlessRoutes),
  TFTP_SERVER_ADDRESS: row(150, 'tftp-server-address', ipv4List),
  IPXE_ENCAP: row(175, 'ipxe-encapsulated-options', tlv),
} as const;

/** Option codes by constant name (`OPT.ROUTER === 3`), derived from the table. */
export const OPT = Object.fromEntries(Object.entries(OPTIONS).map(([k, r]) => [k, r.code])) as {
  readonly [K in keyof typeof OPTIONS]: (typeof OPTIONS)[K]['code'];
};

/** Rows by code. */
export const OPTION_BY_CODE: ReadonlyMap<number, OptionRow> = new Map(Object.values(OPTIONS).map((r) => [r.code, r as OptionRow]));

/** Rows by name. */
export const OPTION_BY_NAME: ReadonlyMap<string, OptionRow> = new Map(Object.values(OPTIONS).map((r) => [r.name, r as OptionRow]));

/** Types an operator may name for an option the table does not know (`--dhcp-option 224=hex:01ff`). */
export const VALUE_TYPES: ReadonlyMap<string, ValueCodec<unknown>> = new Map(
  [ipv4, ipv4List, u8, u16, u32, bool, text, hex, u8List, u16List, classlessRoutes, domainSearch].map((c) => [
    c.type,
    c as ValueCodec<unknown>,
  ]),
);
