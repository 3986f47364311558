/**
 * What the full server and the proxy may use: narrow interfaces the handler
 * fills in. The servers import only these types, never the handler, so the
 * layers stay handler -> server -> (table, pure functions).
 */
import type { Peer } from '../net/pinned-udp.ts';
import type { Logger } from '../core/plugin.ts';
import type { DhcpMessageEventType, DhcpMessageExtra } from '../../contract/event-data.ts';
import type { LeaseDoc } from '../store/docs.ts';
import type { BootChoice } from './classify.ts';
import type { LeaseTable, Pool } from './lease-table.ts';
import type { ProxyStrategies, ProxyStrategy } from './proxy-strategy.ts';
import type { Request } from './request.ts';

/** A datagram to send. */
export interface Outgoing {
  buf: Uint8Array;
  to: Peer;
}

/** What both servers need. */
export interface ServerContext {
  /** The appliance's address on the NIC: option 54, siaddr. */
  serverIp: string;
  now(): number;
  log: Logger;
  /** Bump a counter of `stats()`. */
  count(key: string): void;
  /** Emit a `dhcp.*` event for a received or sent message, with the firmware facts. */
  report(type: DhcpMessageEventType, r: Request, msg: number, extra?: DhcpMessageExtra): void;
  /** The boot file for this client (per-node loader from the core), or null when it is not a boot client. */
  bootChoice(r: Request): Promise<BootChoice | null>;
  /** Say (in a rate-limited `dhcp.unsupported` event) why a boot client gets no boot file. */
  unsupported(r: Request, reason: string): void;
}

/** What the full server needs besides. */
export interface FullContext extends ServerContext {
  pools: readonly Pool[];
  table: LeaseTable;
  leaseS: number;
  /** Operator-defined options (config `dhcpOptions`), encoded; they replace a default of the same code. */
  extraOptions: readonly [number, Uint8Array][];
  /** Persist a lease; `durable` resolves after fdatasync (group commit). */
  persist(doc: LeaseDoc, durable: boolean): Promise<void>;
  /** Forget a lease on disk. */
  remove(mac: string): Promise<void>;
  /** Ping before offering a new address: true = in use. Null when the check is off. */
  conflictCheck: ((ip: string) => Promise<boolean>) | null;
}

/** What the proxy needs besides. */
export interface ProxyContext extends ServerContext {
  /** The prefix length of the NIC's address: with `serverIp`, the one subnet whose relays proxy mode answers. */
  prefix: number;
  strategies: ProxyStrategies;
  /** Remember which MAC has which address (4011 requests) so a TFTP request can be matched to the MAC. */
  noteClientIp(ip: string, mac: string): void;
  /** The UEFI strategy for this MAC flipped (event `dhcp.proxy`). */
  strategyChanged(r: Request, strategy: ProxyStrategy): void;
}
