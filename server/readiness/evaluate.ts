/**
 * Judge gathered facts: one row per item with its status and fix. Pure, so every verdict is tested
 * on hand-made facts. The rule the issue sets: in full or proxy mode a missing x86 BIOS or UEFI
 * loader or a missing x86 microkernel fails (serve refuses); a missing loader or microkernel of
 * another architecture is a warning.
 */
import type { Readiness, ReadinessRow } from '../../contract/readiness.ts';
import { ERRORS } from '../errors/catalog.ts';
import { competitors, describeServer } from '../dhcp/probe-reply.ts';
import { PREPARE_FIX } from '../prepare/loader-missing.ts';
import type { LoaderState } from '../prepare/inventory/loaders.ts';
import type { MicrokernelState } from '../prepare/inventory/microkernels.ts';
import { architectureRows } from './arch-rows.ts';
import type { ReadinessFacts } from './facts.ts';

/** Below this the data dir cannot take a microkernel install (two copies of ~60 MB during the swap) and store growth. */
export const DISK_FAIL_BYTES = 256 * 1024 * 1024;
/** Below this a disk image (Debian 12: ~1 GiB compressed) or a bundle import may not fit. */
export const DISK_WARN_BYTES = 2 * 1024 * 1024 * 1024;

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const GiB = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
const WHERE: Record<string, string> = {
  'data-dir': 'in the data dir',
  package: 'shipped with this install',
  'tftp-root': 'in --tftp-root',
  build: 'from the build output',
  flag: 'from --microkernel',
};
const LOADER_ARCH: Record<LoaderState['arch'], string> = { 'x86-bios': 'x86 BIOS', 'x86_64-efi': 'x86_64 UEFI', 'arm64-efi': 'arm64 UEFI' };

const serving = (f: ReadinessFacts) => f.mode === 'full' || f.mode === 'proxy';

function hostRows(f: ReadinessFacts): ReadinessRow[] {
  const id = f.identity;
  const base = { id: 'privileges', group: 'host' as const, label: 'privileges' };
  const who = id.root
    ? 'root'
    : [id.bind && 'CAP_NET_BIND_SERVICE', id.raw && 'CAP_NET_RAW'].filter(Boolean).join(', ') || 'no capabilities';
  if (f.mode === 'lab') return [{ ...base, status: 'info', detail: `${who}; the simulated rack needs none` }];
  const denied = f.ports?.filter((p) => p.result === 'denied') ?? [];
  if (denied.length > 0)
    return [
      {
        ...base,
        status: 'fail',
        detail: `${who}: binding ${denied.map((p) => p.port).join(', ')} refused`,
        fix: ERRORS.CC_ERR_PORT_DENIED.fix,
      },
    ];
  const privileged = f.udpPorts.filter((p) => p > 0 && p < id.unprivilegedPortStart);
  if (!id.root && !id.bind && privileged.length > 0 && f.ports === null)
    return [
      {
        ...base,
        status: 'fail',
        detail: `${who}: ports ${privileged.join(', ')} need CAP_NET_BIND_SERVICE`,
        fix: ERRORS.CC_ERR_PORT_DENIED.fix,
      },
    ];
  if (!id.root && !id.raw && f.mode === 'full')
    return [
      {
        ...base,
        status: 'warn',
        detail: `${who}: without CAP_NET_RAW the IPv6 router-advertisement responder cannot run, so iPXE waits ~16 s per boot`,
        fix: 'Run as the systemd service (AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW) or as root (docs/privileges.md).',
      },
    ];
  return [{ ...base, status: 'ok', detail: who }];
}

function nicRows(f: ReadinessFacts): ReadinessRow[] {
  const base = { id: 'nic', group: 'network' as const, label: 'provisioning NIC' };
  const pick = f.candidates.length > 0 ? ` (this machine has: ${f.candidates.join(', ')})` : '';
  if (f.nicError) return [{ ...base, status: 'fail', detail: f.nicError.message, fix: f.nicError.fix }];
  if (!f.iface || !f.link) {
    return f.nicRequired
      ? [{ ...base, status: 'fail', detail: 'none chosen', fix: `Pass --iface NAME, the NIC cabled to the rack's switch${pick}.` }]
      : [{ ...base, status: 'info', detail: 'none: simulated rack (pass --iface to serve a real one)' }];
  }
  const l = f.link;
  if (!l.exists) return [{ ...base, status: 'fail', detail: `${f.iface} does not exist`, fix: ERRORS.CC_ERR_IFACE_NOT_FOUND.fix }];
  const addr = f.address ?? l.ipv4[0] ?? null;
  if (!addr) return [{ ...base, status: 'fail', detail: `${f.iface} has no IPv4 address`, fix: ERRORS.CC_ERR_IFACE_NO_ADDRESS.fix }];
  if (l.carrier === false || l.operstate === 'down')
    return [
      {
        ...base,
        status: 'warn',
        detail: `${f.iface} ${addr}: no carrier (operstate ${l.operstate ?? 'unknown'})`,
        fix: `Plug ${f.iface} into the rack's switch and bring it up (\`ip link set ${f.iface} up\`); serving starts when the link comes up.`,
      },
    ];
  return [{ ...base, status: 'ok', detail: `${f.iface} ${addr}, ${l.carrier ? 'carrier' : `operstate ${l.operstate ?? 'unknown'}`}` }];
}

function portRows(f: ReadinessFacts): ReadinessRow[] {
  return (f.ports ?? []).map((p): ReadinessRow => {
    const base = { id: p.id, group: 'network' as const, label: `${p.label} ${p.port}/${p.proto}` };
    switch (p.result) {
      case 'free':
        return { ...base, status: 'ok', detail: 'free' };
      case 'serving':
        return { ...base, status: 'ok', detail: 'in use by this appliance' };
      case 'not-running':
        return p.error
          ? { ...base, status: 'fail', detail: p.error.message, fix: p.error.fix }
          : { ...base, status: 'warn', detail: 'not running', fix: 'Apply the network setup (Setup screen) or restart serve.' };
      case 'denied':
        return { ...base, status: 'fail', detail: 'binding it was refused', fix: ERRORS.CC_ERR_PORT_DENIED.fix };
      case 'in-use':
        return { ...base, status: 'fail', detail: 'in use by another program', fix: ERRORS.CC_ERR_PORT_IN_USE.fix };
    }
  });
}

function probeRows(f: ReadinessFacts): ReadinessRow[] {
  if (f.mode === 'lab' || f.mode === 'off') return [];
  const base = { id: 'dhcp-servers', group: 'network' as const, label: 'other DHCP servers' };
  const p = f.dhcpProbe;
  if (p.kind === 'skipped') return [{ ...base, status: 'info', detail: p.why }];
  if (p.kind === 'error') return [{ ...base, status: 'warn', detail: `could not probe: ${p.error.message}`, fix: p.error.fix }];
  const found = competitors(f.mode, p.servers);
  const secs = `${(p.timeoutMs / 1000).toFixed(0)} s`;
  if (found.length > 0) {
    const first = found.find((s) => s.kind === 'dhcp') ?? found[0]!;
    const code = first.kind === 'dhcp' && f.mode === 'full' ? 'CC_ERR_FOREIGN_DHCP' : 'CC_ERR_FOREIGN_PXE';
    const detail = found.map(describeServer).join('; ');
    if (f.force && f.mode === 'full') return [{ ...base, status: 'warn', detail: `${detail} (--force given)`, fix: ERRORS[code].fix }];
    return [{ ...base, status: 'fail', detail, fix: ERRORS[code].fix }];
  }
  if (f.mode === 'proxy') {
    const dhcp = p.servers.filter((s) => s.kind === 'dhcp');
    if (dhcp.length === 0)
      return [
        {
          ...base,
          status: 'warn',
          detail: `no DHCP server answered in ${secs}: in proxy mode nobody would give the machines an address`,
          fix: 'Check that the site DHCP server serves this link, or use --dhcp full on an isolated rack.',
        },
      ];
    return [{ ...base, status: 'ok', detail: `${dhcp.map(describeServer).join('; ')} (gives addresses; proxy mode boots beside it)` }];
  }
  return [{ ...base, status: 'ok', detail: `none answered in ${secs}` }];
}

/** The x86 iPXE loaders every rack needs; Secure Boot and arm64 chains are needed only by some machines. */
const requiredLoader = (l: LoaderState) => !l.secureBoot && (l.arch === 'x86-bios' || l.arch === 'x86_64-efi');

function loaderRows(f: ReadinessFacts): ReadinessRow[] {
  return f.loaders.map((l): ReadinessRow => {
    const base = {
      id: `loader-${l.name}`,
      group: 'loaders' as const,
      label: `${LOADER_ARCH[l.arch]}${l.secureBoot ? ' Secure Boot' : ''}`,
    };
    const desc = l.files.map((x) => `${x.name} ${x.status}${x.where ? ` (${WHERE[x.where]})` : ''}`).join(', ');
    if (l.ready) return { ...base, status: 'ok', detail: desc };
    const fail = requiredLoader(l) && serving(f);
    return { ...base, status: fail ? 'fail' : 'warn', detail: desc, fix: PREPARE_FIX };
  });
}

function microkernelRow(f: ReadinessFacts, m: MicrokernelState): ReadinessRow {
  const base = { id: `microkernel-${m.arch}`, group: 'microkernel' as const, label: `microkernel ${m.arch}` };
  const fix = `Run \`crashcart prepare --arch ${m.arch}\` (docs/prepare.md), or \`crashcart microkernel import DIR\`.`;
  if (m.status === 'missing') {
    const who = m.arch === 'amd64' ? 'x86 machines' : `${m.arch} machines`;
    const fail = m.arch === 'amd64' && serving(f);
    return { ...base, status: fail ? 'fail' : 'warn', detail: `none: ${who} cannot be discovered`, fix };
  }
  const detail = `${m.version}, ${MiB(m.bytes)} ${WHERE[m.source ?? 'build']}`;
  if (m.status === 'mismatch') return { ...base, status: 'fail', detail: `${detail}: ${m.problem}`, fix };
  if (m.status === 'unverified') return { ...base, status: 'warn', detail: `${detail} (${m.problem})`, fix };
  return { ...base, status: 'ok', detail: `${detail}, verified` };
}

function imageRows(f: ReadinessFacts): ReadinessRow[] {
  const rows: ReadinessRow[] = [];
  const have = new Set(f.images.map((i) => i.name));
  for (const name of f.requiredImages)
    rows.push(
      have.has(name)
        ? { id: `image-${name}`, group: 'images', label: `image ${name}`, status: 'ok', detail: 'present' }
        : {
            id: `image-${name}`,
            group: 'images',
            label: `image ${name}`,
            status: 'fail',
            detail: 'missing',
            fix: `Run \`crashcart prepare --image ${name}\`, or import it (\`crashcart image import\`).`,
          },
    );
  const list = f.images.map((i) => `${i.name} (${MiB(i.bytes)})`).join(', ');
  rows.push({
    id: 'images',
    group: 'images',
    label: 'images',
    status: 'info',
    detail: f.images.length > 0 ? `${f.images.length}: ${list}` : 'none imported (only the discovery microkernel can be booted)',
  });
  return rows;
}

function diskRows(f: ReadinessFacts): ReadinessRow[] {
  const base = { id: 'disk-free', group: 'disk' as const, label: 'free disk (data dir)' };
  const n = f.disk.freeBytes;
  if (n === null) return [{ ...base, status: 'warn', detail: `cannot read ${f.disk.dir}`, fix: ERRORS.CC_ERR_DATA_DIR.fix }];
  const fix = `Free space on the file system of ${f.disk.dir}, or pass --data-dir on a larger one.`;
  if (n < DISK_FAIL_BYTES) return [{ ...base, status: 'fail', detail: `${MiB(n)} free in ${f.disk.dir}`, fix }];
  if (n < DISK_WARN_BYTES) return [{ ...base, status: 'warn', detail: `${MiB(n)} free in ${f.disk.dir}`, fix }];
  return [{ ...base, status: 'ok', detail: `${GiB(n)} free in ${f.disk.dir}` }];
}

/** Judge the facts. */
export function evaluateReadiness(f: ReadinessFacts, now: Date): Readiness {
  const rows = [
    ...hostRows(f),
    ...nicRows(f),
    ...portRows(f),
    ...probeRows(f),
    ...loaderRows(f),
    ...f.microkernels.map((m) => microkernelRow(f, m)),
    ...architectureRows(f.loaders, f.microkernels),
    ...imageRows(f),
    ...diskRows(f),
  ];
  return { ready: !rows.some((r) => r.status === 'fail'), mode: f.mode, rows, checked_at: now.toISOString() };
}
