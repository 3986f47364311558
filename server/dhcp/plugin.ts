/**
 * The DHCP service as a Plugin: full server or proxyDHCP on one NIC, sockets
 * pinned with SO_BINDTOIFINDEX, a foreign-server probe before full mode goes
 * live and periodically after, pause while the NIC is down or renumbered.
 */
import type { Config } from '../config/schema.ts';
import type { Collection } from '../store/collection.ts';
import type { LeaseDoc } from '../store/docs.ts';
import type { EventSink } from '../events/event-log.ts';
import type { BootHooks } from '../core/boot-hooks.ts';
import type { Logger, Plugin } from '../core/plugin.ts';
import { ccError } from '../errors/cc-error.ts';
import { openPinnedUdp, type Peer, type UdpTransport } from '../net/pinned-udp.ts';
import { watchLink } from '../net/link-state.ts';
import { addressInUse } from '../net/icmp-probe.ts';
import { DhcpHandler } from './handler.ts';
import { LeaseTable, makePool, type Pool, type Reservation } from './lease-table.ts';
import { ProxyStrategies, type ProxyStrategy } from './proxy-strategy.ts';
import { probeForeignDhcp, type ForeignServer } from './probe.ts';
import { macForIp } from './arp-table.ts';
import { LeaseStore } from './lease-store.ts';
import {
  DHCP_RECV_BUFFER_BYTES,
  DEFAULT_LEASE_S,
  DEFAULT_LINK_POLL_MS,
  DEFAULT_PROBE_MS,
  DEFAULT_REPROBE_MS,
  SWEEP_INTERVAL_MS,
} from './defaults.ts';

/** Knobs beyond the frozen config (tests, the lab, future settings). All optional. */
export interface DhcpPluginOptions {
  /** Foreign-server probe listen time before full mode goes live. */
  probeMs?: number;
  /** Re-probe interval while serving full mode (0 = never). */
  reprobeMs?: number;
  linkPollMs?: number;
  leaseS?: number;
  reservations?: Reservation[];
  /** More pools for relayed subnets (chosen by giaddr). */
  extraPools?: { name: string; start: string; end: string; prefix: number }[];
  /** Ping an address before offering it (off by default: ~1-3 s per new client). */
  conflictCheck?: boolean;
  now?: () => number;
}

/** What the core passes in. */
export interface DhcpPluginDeps {
  config: Config;
  leases: Collection<LeaseDoc>;
  events: EventSink;
  hooks: BootHooks;
  log: Logger;
  options?: DhcpPluginOptions;
}

/** The DHCP plugin and its extra surface. */
export type DhcpPlugin = Plugin & {
  /** Counters: received, malformed, offers, acks, naks, ... */
  stats(): Record<string, number>;
  /** The TFTP server saw a read request from `ip`: the proxy strategy that got it there works. */
  noteTftpRequest(ip: string): Promise<void>;
  /** The proxy strategy remembered for a MAC. */
  proxyStrategy(mac: string): { strategy: ProxyStrategy; proven: boolean } | null;
};

/** Create the DHCP plugin (mode from `config.dhcp`). */
export function createDhcpPlugin(deps: DhcpPluginDeps): DhcpPlugin {
  const { config, leases, events, hooks, log } = deps;
  const o = deps.options ?? {};
  const now = o.now ?? Date.now;
  const strategies = new ProxyStrategies();
  const ipToMac = new Map<string, string>();
  const sockets: UdpTransport[] = [];
  const timers: (() => void)[] = [];
  let handler: DhcpHandler | null = null;
  let lstore: LeaseStore | null = null;
  let serving = false;
  const extra: Record<string, number> = {};
  const bump = (k: string) => (extra[k] = (extra[k] ?? 0) + 1);

  function requireNic(): { iface: string; ifindex: number; ip: string; prefix: number } {
    if (!config.iface || config.ifindex === null) throw ccError('CC_ERR_IFACE_NOT_FOUND', 'DHCP needs --iface');
    if (!config.address) throw ccError('CC_ERR_IFACE_NO_ADDRESS', config.iface);
    return { iface: config.iface, ifindex: config.ifindex, ip: config.address.ip, prefix: config.address.prefix };
  }

  function foreignOnly(servers: ForeignServer[], ownIp: string): ForeignServer[] {
    return servers.filter((s) => s.serverId !== ownIp && s.from !== ownIp);
  }

  async function listen(port: number, onProxyPort: boolean, ifindex: number): Promise<void> {
    const t = await openPinnedUdp({
      port,
      address: '0.0.0.0',
      ifindex,
      broadcast: true,
      purpose: onProxyPort ? 'proxyDHCP' : 'DHCP',
      recvBufferBytes: DHCP_RECV_BUFFER_BYTES,
    });
    sockets.push(t);
    t.onMessage((buf: Buffer, from: Peer) => {
      if (!serving || !handler) return void bump('paused_drops');
      void handler.handle(buf, from, onProxyPort).then(async (out) => {
        for (const m of out) {
          try {
            await t.send(m.buf, m.to);
            bump('sent');
          } catch (e) {
            bump('send_errors');
            log.warn({ err: e, to: m.to }, 'dhcp: send failed');
          }
        }
      });
    });
  }

  return {
    name: 'dhcp',
    async start() {
      if (config.dhcp === 'off') return;
      const nic = requireNic();
      const mode = config.dhcp;
      const pools: Pool[] = [];
      if (mode === 'full') {
        if (!config.range) throw ccError('CC_ERR_RANGE_INVALID', 'full DHCP needs --range START-END');
        pools.push(makePool('main', config.range.start, config.range.end, nic.prefix));
        for (const p of o.extraPools ?? []) pools.push(makePool(p.name, p.start, p.end, p.prefix));
        if (!config.force) {
          const found = foreignOnly(
            (await probeForeignDhcp({ iface: nic.iface, ifindex: nic.ifindex, timeoutMs: o.probeMs ?? DEFAULT_PROBE_MS })).servers,
            nic.ip,
          );
          log.info({ iface: nic.iface, found }, 'dhcp: probed the link for other DHCP servers');
          const first = found[0];
          if (first) {
            events.emit('dhcp.foreign_server', {
              message: `DHCP server ${first.serverId} answers on ${nic.iface}`,
              data: { servers: found },
            });
            throw ccError(
              'CC_ERR_FOREIGN_DHCP',
              `server ${first.serverId} (from ${first.from}) offered ${first.offered ?? 'no address'} on ${nic.iface}`,
              { servers: found },
            );
          }
        }
      }
      const table = new LeaseTable(o.reservations ?? []);
      const store = new LeaseStore(leases);
      table.load(await store.loadAll());
      lstore = store;
      handler = new DhcpHandler({
        mode,
        serverIp: nic.ip,
        prefix: nic.prefix,
        pools,
        table,
        publicUrl: config.publicUrl,
        leaseS: o.leaseS ?? DEFAULT_LEASE_S,
        persist: (doc, durable) => store.put(doc, durable),
        remove: (mac) => store.remove(mac),
        hooks,
        events,
        log,
        strategies,
        conflictCheck: o.conflictCheck ? (ip) => addressInUse(nic.iface, ip) : null,
        noteClientIp: (ip, mac) => ipToMac.set(ip, mac),
        now,
      });
      await listen(config.ports.dhcp, false, nic.ifindex);
      if (mode === 'proxy') await listen(config.ports.proxy, true, nic.ifindex);
      serving = true;
      timers.push(
        watchLink(nic.iface, nic.ip, o.linkPollMs ?? DEFAULT_LINK_POLL_MS, (up, s) => {
          serving = up;
          events.emit(up ? 'service.state' : 'service.error', {
            message: up
              ? `DHCP resumed on ${nic.iface}`
              : `DHCP paused: ${nic.iface} is ${s.exists ? (s.up ? `no longer ${nic.ip}` : 'down') : 'gone'}`,
            data: { service: 'dhcp', state: up ? 'serving' : 'paused', link: s },
          });
        }),
      );
      const sweep = setInterval(() => {
        for (const d of table.sweep(now())) void store.put(d, false).catch(() => undefined);
      }, SWEEP_INTERVAL_MS);
      sweep.unref();
      timers.push(() => clearInterval(sweep));
      const reprobeMs = o.reprobeMs ?? DEFAULT_REPROBE_MS;
      if (mode === 'full' && reprobeMs > 0) {
        const known = new Set<string>();
        const t = setInterval(() => {
          void probeForeignDhcp({ iface: nic.iface, ifindex: nic.ifindex, timeoutMs: o.probeMs ?? DEFAULT_PROBE_MS })
            .then((r) => {
              for (const s of foreignOnly(r.servers, nic.ip)) {
                if (known.has(s.serverId)) continue;
                known.add(s.serverId);
                events.emit('dhcp.foreign_server', {
                  message: `another DHCP server ${s.serverId} appeared on ${nic.iface} (offered ${s.offered ?? 'nothing'})`,
                  data: { ...s },
                });
              }
            })
            .catch((e: unknown) => log.warn({ err: e }, 'dhcp: re-probe failed'));
        }, reprobeMs);
        t.unref();
        timers.push(() => clearInterval(t));
      }
      log.info({ mode, iface: nic.iface, ip: nic.ip }, 'dhcp: serving');
    },
    async stop() {
      serving = false;
      for (const t of timers.splice(0)) t();
      await Promise.all(sockets.splice(0).map((s) => s.close()));
    },
    stats() {
      return {
        ...(handler?.stats ?? {}),
        ...extra,
        lease_batches: lstore?.batches ?? 0,
        lease_writes: lstore?.batchedDocs ?? 0,
        serving: serving ? 1 : 0,
      };
    },
    async noteTftpRequest(ip) {
      const mac = ipToMac.get(ip) ?? handler?.d.table.holderOf(ip) ?? (await macForIp(ip));
      if (!mac) return;
      const s = strategies.proven(mac);
      if (s) events.emit('dhcp.proxy', { mac, message: `${mac} reached TFTP with proxy strategy ${s}`, data: { strategy: s, ip } });
    },
    proxyStrategy: (mac) => strategies.get(mac),
  };
}
