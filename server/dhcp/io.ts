/**
 * Everything the DHCP plugin does to the machine, behind one interface: open
 * pinned sockets, probe the link, watch the NIC, ping an address, read the ARP
 * table. The plugin receives a factory, so tests run it on an in-memory transport
 * with a scripted link; `realDhcpIo` is the thin real one.
 */
import { openPinnedUdp, type UdpTransport } from '../net/pinned-udp.ts';
import { openBatchedUdp, udpBatch } from '../net/native-udp.ts';
import { watchLink, type LinkState } from '../net/link-state.ts';
import { addressInUse } from '../net/icmp-probe.ts';
import { probeForeignDhcp, type ProbeResult } from './probe.ts';
import { macForIp } from './arp-table.ts';
import { DHCP_RECV_BUFFER_BYTES } from './defaults.ts';

/** The provisioning NIC as the plugin sees it. */
export interface Nic {
  iface: string;
  ifindex: number;
  ip: string;
  prefix: number;
}

/** The plugin's side effects. */
export interface DhcpIo {
  /** A UDP socket on 0.0.0.0:`port` (broadcasts in and out), pinned to the NIC. */
  openSocket(port: number, purpose: string): Promise<UdpTransport>;
  /** Listen for other DHCP servers for `timeoutMs`, as a client with `mac`. */
  probe(timeoutMs: number, mac: string): Promise<ProbeResult>;
  /** Call `onChange` when "up and holding our address" flips; returns a stop function. */
  watchLink(onChange: (serving: boolean, s: LinkState) => void): () => void;
  /** Does anything answer on `ip` (the optional conflict check)? */
  addressInUse(ip: string): Promise<boolean>;
  /** The kernel's IP -> MAC entry, if any. */
  macForIp(ip: string): Promise<string | null>;
}

/**
 * Builds the io for one NIC (called at start, once the NIC is known). `nodeSockets`: read with Node's datagram
 * layer even when the batching addon is there (`--dhcp-js`, to compare).
 */
export type DhcpIoFactory = (nic: Nic, linkPollMs: number, nodeSockets: boolean) => DhcpIo;

/** Does the real io read in batches (native/udp-batch.c)? False without the addon or with `--dhcp-js`. */
export function batchedSockets(nodeSockets: boolean): boolean {
  return !nodeSockets && udpBatch.addon !== null;
}

/**
 * The real one: sockets pinned with SO_BINDTOIFINDEX (read in batches by the addon, or by Node's datagram layer),
 * ping, /proc/net/arp, /sys polling.
 */
export const realDhcpIo: DhcpIoFactory = (nic, linkPollMs, nodeSockets) => ({
  openSocket: (port, purpose) =>
    (batchedSockets(nodeSockets) ? openBatchedUdp : openPinnedUdp)({
      port,
      address: '0.0.0.0',
      ifindex: nic.ifindex,
      broadcast: true,
      purpose,
      recvBufferBytes: DHCP_RECV_BUFFER_BYTES,
    }),
  probe: (timeoutMs, mac) => probeForeignDhcp({ iface: nic.iface, ifindex: nic.ifindex, timeoutMs, mac }),
  watchLink: (onChange) => watchLink(nic.iface, nic.ip, linkPollMs, onChange),
  addressInUse: (ip) => addressInUse(nic.iface, ip),
  macForIp,
});
