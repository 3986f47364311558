/**
 * The DHCP handler: parse and filter one datagram, then hand it to the full
 * server (full-server.ts) or the proxy (proxy-server.ts). Every DISCOVER,
 * OFFER, REQUEST, ACK and NAK becomes an event with the firmware facts.
 * No sockets here: it returns the datagrams to send.
 */
import { MalformedPacket } from '../net/malformed.ts';
import type { Peer } from '../net/pinned-udp.ts';
import type { BootHooks } from '../core/boot-hooks.ts';
import type { Logger } from '../core/plugin.ts';
import type { EventSink } from '../events/event-log.ts';
import type { EventType } from '../../contract/index.ts';
import type { LeaseDoc } from '../store/docs.ts';
import { decode, macOf, type DhcpPacket } from './codec.ts';
import {
  collectOptions,
  messageType,
  MSG_NAME,
  OPT,
  encodeSubOptions,
  IPXE_NO_PXEDHCP,
  PXE_DISCOVERY_CONTROL,
  PXE_SKIP_DISCOVERY,
  textBytes,
} from './options.ts';
import { bootFileFor, classifyClient, isBootClient, type BootChoice, type ClientFacts } from './classify.ts';
import type { LeaseTable, Pool } from './lease-table.ts';
import type { ProxyStrategies } from './proxy-strategy.ts';
import { handleFull } from './full-server.ts';
import { handleProxy } from './proxy-server.ts';
import { MALFORMED_EVENT_INTERVAL_MS } from './defaults.ts';

/** A datagram to send. */
export interface Outgoing {
  buf: Uint8Array;
  to: Peer;
}

/** Everything the handler needs, passed in. */
export interface HandlerDeps {
  mode: 'full' | 'proxy';
  serverIp: string;
  prefix: number;
  pools: Pool[];
  table: LeaseTable;
  publicUrl: string;
  leaseS: number;
  /** Persist a lease; `durable` resolves after fdatasync (group commit). */
  persist(doc: LeaseDoc, durable: boolean): Promise<void>;
  /** Forget a lease on disk. */
  remove(mac: string): Promise<void>;
  hooks: BootHooks;
  events: EventSink;
  log: Logger;
  strategies: ProxyStrategies;
  /** Optional ARP/ICMP conflict check before offering a new address: true = in use. */
  conflictCheck: ((ip: string) => Promise<boolean>) | null;
  /** Remember which MAC has which address (proxy 4011 requests) for TFTP correlation. */
  noteClientIp(ip: string, mac: string): void;
  now(): number;
}

/** One parsed request with what every later step needs. */
export interface Request {
  pkt: DhcpPacket;
  opts: Map<number, Uint8Array>;
  type: number;
  mac: string;
  facts: ClientFacts;
  from: Peer;
  nodeId: number | null;
}

/** Counters shown by `stats()`. */
export type Stats = Record<string, number>;

/** The handler: one instance per plugin. */
export class DhcpHandler {
  readonly stats: Stats = {};
  private lastMalformedEvent = -Infinity;

  constructor(readonly d: HandlerDeps) {}

  /** Count something. */
  count(k: string, n = 1): void {
    this.stats[k] = (this.stats[k] ?? 0) + n;
  }

  /** Handle one datagram that arrived on `port` (67 or the proxy port). Never throws. */
  async handle(buf: Uint8Array, from: Peer, onProxyPort: boolean): Promise<Outgoing[]> {
    this.count('received');
    let req: Request;
    try {
      const r = this.parse(buf, from);
      if (!r) return [];
      req = r;
    } catch (e) {
      if (!(e instanceof MalformedPacket)) throw e;
      this.malformed(e, from);
      return [];
    }
    try {
      req.nodeId = await this.nodeFor(req);
      if (onProxyPort || this.d.mode === 'proxy') return await handleProxy(this, req, onProxyPort);
      return await handleFull(this, req);
    } catch (e) {
      this.count('errors');
      this.d.log.error({ err: e, mac: req.mac }, 'dhcp: request failed');
      return [];
    }
  }

  private parse(buf: Uint8Array, from: Peer): Request | null {
    const pkt = decode(buf);
    if (pkt.op !== 1) return this.drop('not_request');
    // Our own probe DISCOVER loops back on the host: never answer ourselves.
    if (from.address === this.d.serverIp) return this.drop('own_packet');
    if (pkt.htype !== 1 || pkt.hlen !== 6) return this.drop('not_ethernet');
    const opts = collectOptions(pkt);
    const type = messageType(opts);
    if (type === null) return this.drop('bootp_ignored');
    const facts = classifyClient(opts);
    return { pkt, opts, type, mac: macOf(pkt), facts, from, nodeId: null };
  }

  private drop(k: string): null {
    this.count(k);
    return null;
  }

  private malformed(e: MalformedPacket, from: Peer): void {
    this.count('malformed');
    const now = this.d.now();
    if (now - this.lastMalformedEvent < MALFORMED_EVENT_INTERVAL_MS) return;
    this.lastMalformedEvent = now;
    this.d.events.emit('dhcp.malformed', {
      message: `dropped a malformed DHCP packet from ${from.address}:${from.port}: ${e.reason}`,
      data: { from: from.address, offset: e.offset, reason: e.reason, total: this.stats.malformed },
    });
  }

  /** Boot clients are recorded as `discovered` nodes on DISCOVER/REQUEST; others are only looked up. */
  private async nodeFor(r: Request): Promise<number | null> {
    try {
      if (isBootClient(r.facts) && (r.type === 1 || r.type === 3)) {
        return await this.d.hooks.sawBoot({
          mac: r.mac,
          arch: r.facts.arch,
          vendorClass: r.facts.vendorClass,
          userClass: r.facts.userClass,
          guid: r.facts.guid,
          ip: r.pkt.ciaddr !== '0.0.0.0' ? r.pkt.ciaddr : null,
        });
      }
      return await this.d.hooks.nodeIdForMac(r.mac);
    } catch (e) {
      this.count('hook_errors');
      this.d.log.warn({ err: e, mac: r.mac }, 'dhcp: boot hook failed; continuing without a node id');
      return null;
    }
  }

  /** The boot file for this client, or null (not a boot client / unknown architecture). */
  async bootChoice(r: Request): Promise<BootChoice | null> {
    if (!isBootClient(r.facts)) return null;
    const efiLoader = await this.d.hooks.efiLoaderFor(r.mac).catch(() => 'ipxe.efi' as const);
    const c = bootFileFor(r.facts, { publicUrl: this.d.publicUrl, efiLoader });
    if (!c) this.count('unknown_arch');
    return c;
  }

  /**
   * Options that tell a boot client what to load: 60 echoed as PXEClient/HTTPClient,
   * 97 echoed (PXE 2.1), 43 discovery control 8 when wanted, and 175/176 for
   * iPXE so it does not wait ~3 s for ProxyDHCP offers.
   */
  bootOptions(r: Request, c: BootChoice, send43: boolean, noPxeDhcp: boolean): [number, Uint8Array][] {
    const o: [number, Uint8Array][] = [];
    if (c.vendorClass) o.push([OPT.VENDOR_CLASS, textBytes(c.vendorClass)]);
    const guid = r.opts.get(OPT.CLIENT_GUID);
    if (guid) o.push([OPT.CLIENT_GUID, guid]);
    if (send43) o.push([OPT.VENDOR_SPECIFIC, encodeSubOptions([[PXE_DISCOVERY_CONTROL, Uint8Array.of(PXE_SKIP_DISCOVERY)]])]);
    if (noPxeDhcp && r.facts.ipxe) o.push([OPT.IPXE_ENCAP, encodeSubOptions([[IPXE_NO_PXEDHCP, Uint8Array.of(1)]])]);
    if (c.file.length > 127) o.push([OPT.BOOTFILE, textBytes(c.file.slice(0, 255))]);
    return o;
  }

  /** Emit one event for a received or sent message, with the firmware facts. */
  event(type: EventType, r: Request, msg: number, extra: Record<string, unknown> = {}): void {
    const f = r.facts;
    const name = MSG_NAME[msg] ?? String(msg);
    const ip = (extra.ip as string | undefined) ?? null;
    this.d.events.emit(type, {
      node_id: r.nodeId,
      mac: r.mac,
      message: `${name} ${r.mac}${ip ? ` ${ip}` : ''}${f.arch !== null ? ` arch ${f.arch}` : ''}${extra.file ? ` file ${String(extra.file)}` : ''}`,
      data: {
        xid: r.pkt.xid,
        from: r.from.address,
        ciaddr: r.pkt.ciaddr !== '0.0.0.0' ? r.pkt.ciaddr : null,
        giaddr: r.pkt.giaddr !== '0.0.0.0' ? r.pkt.giaddr : null,
        arch: f.arch,
        vendor_class: f.vendorClass,
        user_class: f.userClass,
        guid: f.guid,
        ipxe: f.ipxe,
        ...extra,
      },
    });
  }
}
