/**
 * Gather readiness facts for one configuration: the same code for `crashcart doctor` (probes ports
 * and the link for foreign DHCP servers), `serve` at start (probes ports; the DHCP service probes
 * the link itself before it goes live) and the running appliance's `GET /api/v1/readiness` (ports
 * come from its own services). Then judge them (evaluate.ts).
 */
import type { Readiness } from '../../contract/readiness.ts';
import type { Config } from '../config/schema.ts';
import type { ServiceStatus } from '../../contract/system.ts';
import { CcError } from '../errors/cc-error.ts';
import { inspectImages } from '../prepare/inventory/images.ts';
import { inspectLoaders, type LoaderRoot } from '../prepare/inventory/loaders.ts';
import { inspectMicrokernels } from '../prepare/inventory/microkernels.ts';
import type { HashCache } from '../prepare/inventory/hash-cache.ts';
import { loadersDir, shippedLoadersDir } from '../prepare/layout.ts';
import { DEFAULT_PROBE_MS } from '../dhcp/defaults.ts';
import { evaluateReadiness } from './evaluate.ts';
import type { DhcpProbeFact, FixedError, PortFact, ReadinessFacts } from './facts.ts';
import type { MachineProbes } from './probes.ts';

/** How to gather. */
export interface GatherOptions {
  probes: MachineProbes;
  hashes: HashCache;
  /** The install root (REPO_ROOT): where resources/ is. */
  root: string;
  /** True for doctor: no NIC means the rack cannot be served. */
  nicRequired: boolean;
  /** The mode to judge for when the config has no NIC (doctor: the mode serve would use on the rack). */
  mode?: 'full' | 'proxy' | 'off';
  /** The NIC named on the command line could not be resolved (doctor still reports everything else). */
  nicError?: { iface: string; error: FixedError } | null;
  /** Ports: bind-test them, take them from a running appliance's services, or skip. */
  ports: 'probe' | { services: ServiceStatus[] } | 'skip';
  /** Run the foreign DHCP probe (doctor), or say why not. */
  dhcpProbe: 'run' | { skip: string };
  requiredImages?: readonly string[];
  /** Interfaces to suggest when none is chosen. */
  candidates?: () => string[];
  now?: () => Date;
}

/** The folders loaders are served from, in serving order (network-services.ts uses the same order). */
export function loaderRootsFor(c: Pick<Config, 'dataDir' | 'tftpRoot'>, root: string): LoaderRoot[] {
  return [
    { dir: loadersDir(c.dataDir), kind: 'data-dir', pinned: true },
    { dir: shippedLoadersDir(root), kind: 'package', pinned: true },
    ...(c.tftpRoot ? [{ dir: c.tftpRoot, kind: 'tftp-root' as const, pinned: false }] : []),
  ];
}

/** The ports this configuration serves on. */
function portList(c: Config): Omit<PortFact, 'result'>[] {
  const out: Omit<PortFact, 'result'>[] = [];
  if (c.iface) {
    if (c.dhcp !== 'off') out.push({ id: 'port-dhcp', label: 'DHCP', proto: 'udp', port: c.ports.dhcp });
    if (c.dhcp === 'proxy') out.push({ id: 'port-proxy', label: 'PXE boot server', proto: 'udp', port: c.ports.proxy });
    out.push({ id: 'port-tftp', label: 'TFTP', proto: 'udp', port: c.ports.tftp });
  }
  out.push({ id: 'port-http', label: 'node HTTP', proto: 'tcp', port: c.http.port });
  out.push({ id: 'port-admin', label: 'admin API', proto: 'tcp', port: c.admin.port });
  // Port 0 means "any free port" (tests): nothing to check.
  return out.filter((p) => p.port !== 0);
}

/** Which service owns each port, for the running appliance's own view. */
const SERVICE_OF: Record<string, string> = {
  'port-dhcp': 'dhcp',
  'port-proxy': 'dhcp',
  'port-tftp': 'tftp',
  'port-http': 'http-node',
  'port-admin': 'admin',
};

async function portFacts(c: Config, o: GatherOptions): Promise<PortFact[] | null> {
  if (o.ports === 'skip') return null;
  const list = portList(c);
  if (o.ports === 'probe') {
    const out: PortFact[] = [];
    for (const p of list) {
      const host =
        p.proto === 'tcp' ? (p.id === 'port-admin' ? c.admin.host : c.http.host) : p.id === 'port-tftp' ? c.address!.ip : '0.0.0.0';
      const result = await o.probes.port({ proto: p.proto, host, port: p.port, ifindex: p.proto === 'udp' ? c.ifindex : null });
      out.push({ ...p, result });
    }
    return out;
  }
  const services = o.ports.services;
  return list.map((p) => {
    const s = services.find((x) => x.name === SERVICE_OF[p.id]);
    return s?.state === 'running' ? { ...p, result: 'serving' } : { ...p, result: 'not-running', ...(s?.error ? { error: s.error } : {}) };
  });
}

async function probeFact(c: Config, o: GatherOptions, privileged: boolean): Promise<DhcpProbeFact> {
  if (!c.iface || c.ifindex === null) return { kind: 'skipped', why: 'not probed: no usable NIC' };
  if (c.dhcp === 'off') return { kind: 'skipped', why: 'DHCP is off' };
  if (o.dhcpProbe !== 'run') return { kind: 'skipped', why: o.dhcpProbe.skip };
  // The probe binds port 68: without the privilege it cannot listen, and saying "none" would be a lie.
  if (!privileged)
    return {
      kind: 'skipped',
      why: 'not probed: listening on port 68 needs root or CAP_NET_BIND_SERVICE (run doctor as the service user or root)',
    };
  try {
    const r = await o.probes.dhcpProbe(c.iface, c.ifindex, DEFAULT_PROBE_MS);
    return { kind: 'probed', timeoutMs: DEFAULT_PROBE_MS, servers: r.servers, overflow: r.overflow };
  } catch (e) {
    const err = e instanceof CcError ? e : null;
    return {
      kind: 'error',
      error: { code: err?.code ?? 'CC_ERR_INTERNAL', message: (e as Error).message, fix: err?.fix ?? 'See the log.' },
    };
  }
}

/** Gather and judge readiness for `c`. */
export async function gatherReadiness(c: Config, o: GatherOptions): Promise<Readiness> {
  const identity = o.probes.identity();
  const nicName = c.iface ?? o.nicError?.iface ?? null;
  const mode = c.iface ? c.dhcp : o.nicRequired ? (o.mode ?? c.dhcp) : 'lab';
  const udpPorts = c.iface || o.nicError ? [...(c.dhcp !== 'off' ? [c.ports.dhcp, 68] : []), c.ports.tftp] : [];
  const privileged = identity.root || identity.bind || identity.unprivilegedPortStart <= 68;
  const facts: ReadinessFacts = {
    mode,
    nicRequired: o.nicRequired,
    iface: nicName,
    nicError: o.nicError?.error ?? null,
    address: c.address ? `${c.address.ip}/${c.address.prefix}` : null,
    link: c.iface ? o.probes.link(c.iface) : null,
    candidates: !nicName ? (o.candidates?.() ?? []) : [],
    identity,
    udpPorts: mode === 'lab' ? [] : udpPorts,
    ports: await portFacts(c, o),
    force: c.force,
    dhcpProbe: await probeFact(c, o, privileged),
    loaders: await inspectLoaders(loaderRootsFor(c, o.root), o.hashes),
    microkernels: await inspectMicrokernels(c.dataDir, o.root, c.microkernelDir, o.hashes),
    images: await inspectImages(c.dataDir),
    requiredImages: [...(o.requiredImages ?? [])],
    disk: { dir: c.dataDir, freeBytes: await o.probes.freeBytes(c.dataDir) },
  };
  return evaluateReadiness(facts, (o.now ?? (() => new Date()))());
}
