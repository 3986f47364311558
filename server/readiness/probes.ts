/**
 * What readiness asks of the machine, behind one interface so the checks run in tests on a scripted
 * machine: who we are (root, capabilities), the NIC's link, whether a port can be bound, free disk,
 * and the foreign DHCP probe. `realProbes` is the thin real one.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openPinnedUdp } from '../net/pinned-udp.ts';
import { interfacesWithAddresses } from '../system/interfaces.ts';
import { probeForeignDhcp, type ProbeResult } from '../dhcp/probe.ts';
import { CcError } from '../errors/cc-error.ts';

/** capabilities(7) bit numbers. */
const CAP_NET_BIND_SERVICE = 10;
const CAP_NET_RAW = 13;
/** Linux's default first unprivileged port when /proc does not say (ip-sysctl.rst). */
const DEFAULT_UNPRIVILEGED_PORT_START = 1024;

/** This process's identity as far as serving needs it. */
export interface Identity {
  root: boolean;
  /** Effective CAP_NET_BIND_SERVICE / CAP_NET_RAW. */
  bind: boolean;
  raw: boolean;
  /** Ports below this need CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start). */
  unprivilegedPortStart: number;
}

/** The NIC as /sys and the address list show it. */
export interface LinkFacts {
  exists: boolean;
  /** /sys/class/net/IF/carrier: true, false, or null when the driver does not say. */
  carrier: boolean | null;
  operstate: string | null;
  ipv4: string[];
}

/** Can a port be bound right now? */
export type PortResult = 'free' | 'in-use' | 'denied';

/** A port to check. */
export interface PortProbe {
  proto: 'udp' | 'tcp';
  host: string;
  port: number;
  /** Pin to this interface (UDP boot services are pinned to the NIC). */
  ifindex: number | null;
}

/** The machine, as readiness sees it. */
export interface MachineProbes {
  identity(): Identity;
  link(iface: string): LinkFacts;
  port(p: PortProbe): Promise<PortResult>;
  freeBytes(dir: string): Promise<number | null>;
  dhcpProbe(iface: string, ifindex: number, timeoutMs: number): Promise<ProbeResult>;
}

/** Effective capabilities from the text of /proc/self/status (the CapEff line, hex). Pure. */
export function capsFromStatus(status: string): { bind: boolean; raw: boolean } {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (!m) return { bind: false, raw: false };
  const eff = BigInt(`0x${m[1]}`);
  const has = (bit: number) => ((eff >> BigInt(bit)) & 1n) === 1n;
  return { bind: has(CAP_NET_BIND_SERVICE), raw: has(CAP_NET_RAW) };
}

const readText = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};

function tcpPort(p: PortProbe): Promise<PortResult> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EACCES' || e.code === 'EPERM' ? 'denied' : 'in-use'));
    s.listen({ host: p.host, port: p.port, exclusive: true }, () => s.close(() => resolve('free')));
  });
}

async function udpPort(p: PortProbe): Promise<PortResult> {
  try {
    const t = await openPinnedUdp({ port: p.port, address: p.host, ifindex: p.ifindex, purpose: 'readiness check' });
    await t.close();
    return 'free';
  } catch (e) {
    return e instanceof CcError && e.code === 'CC_ERR_PORT_DENIED' ? 'denied' : 'in-use';
  }
}

/** The real machine. */
export const realProbes: MachineProbes = {
  identity() {
    const start = Number(readText('/proc/sys/net/ipv4/ip_unprivileged_port_start')?.trim());
    return {
      root: process.getuid?.() === 0,
      ...capsFromStatus(readText('/proc/self/status') ?? ''),
      unprivilegedPortStart: Number.isInteger(start) ? start : DEFAULT_UNPRIVILEGED_PORT_START,
    };
  },
  link(iface) {
    const operstate = readText(`/sys/class/net/${iface}/operstate`)?.trim() ?? null;
    // carrier is unreadable (EINVAL) while the NIC is administratively down.
    const carrier = readText(`/sys/class/net/${iface}/carrier`)?.trim();
    return {
      exists: operstate !== null,
      carrier: carrier === '1' ? true : carrier === '0' ? false : null,
      operstate,
      // `ip -j -4 addr` lists addresses of NICs without carrier too (os.networkInterfaces() hides them).
      ipv4: (interfacesWithAddresses()[iface] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.cidr ?? a.address),
    };
  },
  port: (p) => (p.proto === 'tcp' ? tcpPort(p) : udpPort(p)),
  async freeBytes(dir) {
    // A data dir not created yet lives on its nearest existing parent's file system.
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      try {
        const s = await fs.promises.statfs(d);
        return s.bavail * s.bsize;
      } catch {
        if (d === path.dirname(d)) return null;
      }
    }
  },
  dhcpProbe: (iface, ifindex, timeoutMs) => probeForeignDhcp({ iface, ifindex, timeoutMs }),
};
