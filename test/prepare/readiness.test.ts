/**
 * Readiness verdicts (server/readiness/evaluate.ts) on hand-made facts: what fails in full and proxy
 * mode and what only warns, every row's fix; the capability parser; the table; and gathering over a
 * real data dir with a scripted machine (a tampered loader, a damaged microkernel).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readiness, ReadinessRow } from '../../contract/readiness.ts';
import { evaluateReadiness, DISK_FAIL_BYTES, DISK_WARN_BYTES } from '../../server/readiness/evaluate.ts';
import type { ReadinessFacts } from '../../server/readiness/facts.ts';
import { capsFromStatus, type MachineProbes } from '../../server/readiness/probes.ts';
import { readinessTable } from '../../server/readiness/table.ts';
import { gatherReadiness } from '../../server/readiness/gather.ts';
import { finalizeConfig } from '../../server/config/load.ts';
import type { Config } from '../../server/config/schema.ts';
import { HashCache } from '../../server/prepare/inventory/hash-cache.ts';
import { LOADERS } from '../../server/prepare/loaders/registry.ts';
import type { LoaderState } from '../../server/prepare/inventory/loaders.ts';
import type { MicrokernelState } from '../../server/prepare/inventory/microkernels.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { findMicrokernelFor, microkernelDirsFor } from '../../server/boot/microkernel-select.ts';
import { tmpDir } from '../support/appliance.ts';
import { writeMicrokernel } from '../bundle/support.ts';

const NOW = new Date('2025-01-01T00:00:00Z');
const loaders = (ready: (name: string) => boolean): LoaderState[] =>
  LOADERS.map((a) => ({
    name: a.name,
    arch: a.arch,
    bootFile: a.bootFile,
    secureBoot: a.secureBoot,
    summary: a.summary,
    ready: ready(a.name),
    files: a.files.map((f) => ({
      name: f.name,
      status: ready(a.name) ? 'verified' : 'missing',
      where: ready(a.name) ? 'data-dir' : null,
      path: null,
      bytes: ready(a.name) ? f.bytes : null,
    })),
  }));
const mk = (arch: 'amd64' | 'arm64', status: MicrokernelState['status']): MicrokernelState =>
  status === 'missing'
    ? { arch, status, dir: null, source: null, version: null, bytes: 0, files: [] }
    : {
        arch,
        status,
        dir: '/d',
        source: 'data-dir',
        version: 'v1',
        bytes: 60 << 20,
        files: [],
        ...(status !== 'verified' ? { problem: 'x' } : {}),
      };

/** Everything fine in full mode on eth1. */
function facts(over: Partial<ReadinessFacts> = {}): ReadinessFacts {
  return {
    mode: 'full',
    nicRequired: true,
    iface: 'eth1',
    nicError: null,
    address: '10.0.0.1/24',
    link: { exists: true, carrier: true, operstate: 'up', ipv4: ['10.0.0.1/24'] },
    candidates: [],
    identity: { root: false, bind: true, raw: true, unprivilegedPortStart: 1024 },
    udpPorts: [67, 68, 69],
    ports: [
      { id: 'port-dhcp', label: 'DHCP', proto: 'udp', port: 67, result: 'free' },
      { id: 'port-tftp', label: 'TFTP', proto: 'udp', port: 69, result: 'free' },
    ],
    force: false,
    dhcpProbe: { kind: 'probed', timeoutMs: 4500, servers: [], overflow: 0 },
    loaders: loaders(() => true),
    microkernels: [mk('amd64', 'verified'), mk('arm64', 'verified')],
    images: [],
    requiredImages: [],
    disk: { dir: '/data', freeBytes: 100 * 1024 ** 3 },
    ...over,
  };
}
const row = (rows: ReadinessRow[], id: string) => {
  const r = rows.find((x) => x.id === id);
  if (!r) throw new Error(`no row ${id} in ${rows.map((x) => x.id).join(', ')}`);
  return r;
};
const foreign = (kind: 'dhcp' | 'proxy', pxe: boolean) => ({
  serverId: '10.0.0.254',
  from: '10.0.0.254',
  offered: kind === 'dhcp' ? '10.0.0.50' : null,
  answered: ['dhcp' as const],
  kind,
  pxe,
  bootFile: null,
  malformed: null,
});

describe('verdicts', () => {
  it('a fully prepared rack in full mode is ready with no warnings', () => {
    const r = evaluateReadiness(facts(), NOW);
    expect(r.ready).toBe(true);
    expect(r.rows.filter((x) => x.status === 'warn' || x.status === 'fail')).toEqual([]);
  });

  it('full or proxy mode without the x86 BIOS or UEFI iPXE loader fails, with the prepare fix', () => {
    for (const missing of ['ipxe-bios', 'ipxe-efi-x64'])
      for (const mode of ['full', 'proxy'] as const) {
        const r = evaluateReadiness(facts({ mode, loaders: loaders((n) => n !== missing) }), NOW);
        expect(r.ready).toBe(false);
        expect(row(r.rows, `loader-${missing}`)).toMatchObject({ status: 'fail', fix: expect.stringContaining('crashcart prepare') });
      }
  });

  it('a missing Secure Boot or arm64 loader only warns', () => {
    const r = evaluateReadiness(facts({ loaders: loaders((n) => n.startsWith('ipxe')) }), NOW);
    expect(r.ready).toBe(true);
    expect(row(r.rows, 'loader-shim-grub-arm64').status).toBe('warn');
    expect(row(r.rows, 'loader-shim-grub-x64').status).toBe('warn');
  });

  it('no x86 microkernel fails in full mode; none for arm64 warns; a damaged one always fails', () => {
    expect(
      row(evaluateReadiness(facts({ microkernels: [mk('amd64', 'missing'), mk('arm64', 'verified')] }), NOW).rows, 'microkernel-amd64')
        .status,
    ).toBe('fail');
    const arm = evaluateReadiness(facts({ microkernels: [mk('amd64', 'verified'), mk('arm64', 'missing')] }), NOW);
    expect(arm.ready).toBe(true);
    expect(row(arm.rows, 'microkernel-arm64')).toMatchObject({ status: 'warn', fix: expect.stringContaining('--arch arm64') });
    expect(
      row(
        evaluateReadiness(facts({ mode: 'off', microkernels: [mk('amd64', 'mismatch'), mk('arm64', 'missing')] }), NOW).rows,
        'microkernel-amd64',
      ).status,
    ).toBe('fail');
    expect(
      row(evaluateReadiness(facts({ microkernels: [mk('amd64', 'unverified'), mk('arm64', 'missing')] }), NOW).rows, 'microkernel-amd64')
        .status,
    ).toBe('warn');
  });

  it('one row per architecture says which chains can discover machines, without counting a gap twice', () => {
    const full = evaluateReadiness(facts(), NOW);
    expect(row(full.rows, 'arch-amd64')).toMatchObject({
      status: 'ok',
      label: 'x86 machines',
      detail: 'ready: BIOS iPXE, UEFI iPXE and HTTP boot, Secure Boot shim/GRUB',
    });
    expect(row(full.rows, 'arch-arm64')).toMatchObject({
      status: 'ok',
      label: 'arm64 machines',
      detail: 'ready: UEFI and U-Boot shim/GRUB',
    });
    // Only the x86 iPXE loaders: x86 partly ready, arm64 not; the loader rows carry the warnings and fixes.
    const ipxeOnly = evaluateReadiness(facts({ loaders: loaders((n) => n.startsWith('ipxe')) }), NOW);
    expect(row(ipxeOnly.rows, 'arch-amd64')).toMatchObject({
      status: 'info',
      detail: expect.stringMatching(/^partly ready: BIOS iPXE, UEFI iPXE and HTTP boot; not Secure Boot shim\/GRUB/),
    });
    expect(row(ipxeOnly.rows, 'arch-arm64')).toMatchObject({
      status: 'info',
      detail: expect.stringMatching(/^not ready: no loader for UEFI and U-Boot/),
    });
    expect(ipxeOnly.rows.filter((x) => x.status === 'warn').map((x) => x.id)).toEqual(['loader-shim-grub-x64', 'loader-shim-grub-arm64']);
    // Every loader but no arm64 microkernel, or a damaged one: arm64 machines cannot be discovered.
    for (const status of ['missing', 'mismatch'] as const) {
      const r = evaluateReadiness(facts({ microkernels: [mk('amd64', 'verified'), mk('arm64', status)] }), NOW);
      expect(row(r.rows, 'arch-arm64')).toMatchObject({
        status: 'info',
        detail: expect.stringContaining(`not ready: microkernel arm64 ${status}`),
      });
      expect(row(r.rows, 'arch-amd64').status).toBe('ok');
    }
    // An unverified microkernel still boots machines (its own row warns).
    expect(
      row(evaluateReadiness(facts({ microkernels: [mk('amd64', 'unverified'), mk('arm64', 'verified')] }), NOW).rows, 'arch-amd64').status,
    ).toBe('ok');
  });

  it('the simulated rack and DHCP off never fail for missing loaders or microkernel', () => {
    for (const mode of ['lab', 'off'] as const) {
      const r = evaluateReadiness(
        facts({ mode, nicRequired: false, loaders: loaders(() => false), microkernels: [mk('amd64', 'missing'), mk('arm64', 'missing')] }),
        NOW,
      );
      expect(r.rows.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual([]);
    }
  });

  it('ports: taken or refused fail with the catalog fix; our own services count as ok', () => {
    const r = evaluateReadiness(
      facts({
        ports: [
          { id: 'port-dhcp', label: 'DHCP', proto: 'udp', port: 67, result: 'in-use' },
          { id: 'port-tftp', label: 'TFTP', proto: 'udp', port: 69, result: 'denied' },
          { id: 'port-http', label: 'node HTTP', proto: 'tcp', port: 8026, result: 'serving' },
        ],
      }),
      NOW,
    );
    expect(row(r.rows, 'port-dhcp')).toMatchObject({ status: 'fail', fix: expect.stringContaining('ss -lunpt') });
    expect(row(r.rows, 'port-tftp')).toMatchObject({ status: 'fail', fix: expect.stringContaining('systemd') });
    expect(row(r.rows, 'port-http').status).toBe('ok');
    expect(row(r.rows, 'privileges')).toMatchObject({ status: 'fail', detail: expect.stringContaining('69') });
  });

  it('privileges: no capability and privileged ports unprobed fail; no CAP_NET_RAW in full mode warns', () => {
    const none = { root: false, bind: false, raw: false, unprivilegedPortStart: 1024 };
    expect(row(evaluateReadiness(facts({ identity: none, ports: null }), NOW).rows, 'privileges').status).toBe('fail');
    expect(
      row(evaluateReadiness(facts({ identity: { ...none, unprivilegedPortStart: 0 }, ports: null }), NOW).rows, 'privileges').status,
    ).toBe('warn');
    expect(row(evaluateReadiness(facts({ identity: { ...none, bind: true } }), NOW).rows, 'privileges').detail).toMatch(/CAP_NET_RAW/);
  });

  it('the NIC: none chosen (doctor), missing, no address, no carrier', () => {
    const none = evaluateReadiness(facts({ iface: null, link: null, candidates: ['eth0', 'eth1'] }), NOW);
    expect(row(none.rows, 'nic')).toMatchObject({ status: 'fail', fix: expect.stringContaining('eth0, eth1') });
    expect(
      row(evaluateReadiness(facts({ nicError: { code: 'CC_ERR_IFACE_NOT_FOUND', message: 'no eth9', fix: 'pick one' } }), NOW).rows, 'nic')
        .status,
    ).toBe('fail');
    expect(
      row(evaluateReadiness(facts({ address: null, link: { exists: true, carrier: true, operstate: 'up', ipv4: [] } }), NOW).rows, 'nic')
        .status,
    ).toBe('fail');
    expect(
      row(evaluateReadiness(facts({ link: { exists: true, carrier: false, operstate: 'down', ipv4: ['10.0.0.1/24'] } }), NOW).rows, 'nic'),
    ).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('ip link set eth1 up'),
    });
  });

  it('other DHCP servers: full mode refuses any (unless --force), proxy mode needs one and refuses a second boot server', () => {
    const withServers = (mode: 'full' | 'proxy', servers: ReturnType<typeof foreign>[], force = false) =>
      row(
        evaluateReadiness(facts({ mode, force, dhcpProbe: { kind: 'probed', timeoutMs: 4500, servers, overflow: 0 } }), NOW).rows,
        'dhcp-servers',
      );
    expect(withServers('full', [foreign('dhcp', false)])).toMatchObject({ status: 'fail', fix: expect.stringContaining('--dhcp proxy') });
    expect(withServers('full', [foreign('dhcp', false)], true).status).toBe('warn');
    expect(withServers('proxy', [foreign('dhcp', false)]).status).toBe('ok');
    expect(withServers('proxy', []).status).toBe('warn');
    expect(withServers('proxy', [foreign('dhcp', false), foreign('proxy', true)])).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('Stop the other boot server'),
    });
    expect(row(evaluateReadiness(facts({ dhcpProbe: { kind: 'skipped', why: 'needs root' } }), NOW).rows, 'dhcp-servers').status).toBe(
      'info',
    );
  });

  it('disk: thresholds; images: named ones must be there', () => {
    expect(row(evaluateReadiness(facts({ disk: { dir: '/d', freeBytes: DISK_FAIL_BYTES - 1 } }), NOW).rows, 'disk-free').status).toBe(
      'fail',
    );
    expect(row(evaluateReadiness(facts({ disk: { dir: '/d', freeBytes: DISK_WARN_BYTES - 1 } }), NOW).rows, 'disk-free').status).toBe(
      'warn',
    );
    const r = evaluateReadiness(
      facts({ requiredImages: ['debian12', 'ubuntu'], images: [{ name: 'debian12', files: [], bytes: 1 }] }),
      NOW,
    );
    expect(row(r.rows, 'image-debian12').status).toBe('ok');
    expect(row(r.rows, 'image-ubuntu')).toMatchObject({ status: 'fail', fix: expect.stringContaining('prepare --image ubuntu') });
  });

  it('the table shows every row, the fix under each problem, and the verdict', () => {
    const r = evaluateReadiness(facts({ loaders: loaders((n) => n !== 'ipxe-efi-x64') }), NOW);
    const t = readinessTable(r, 'Check');
    expect(t).toMatch(/^Check \(full DHCP\):/);
    expect(t).toMatch(/FAIL {2}x86_64 UEFI +ipxe\.efi missing, snponly\.efi missing\n +fix: Run `crashcart prepare/);
    expect(t.trim().split('\n').length).toBe(r.rows.length + 3); // rows, the one fix, the title and the verdict
    expect(t).toMatch(/Not ready: 1 problem above/);
  });
});

describe('capabilities from /proc/self/status', () => {
  it('reads CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13) from CapEff', () => {
    expect(capsFromStatus('CapInh:\t0\nCapEff:\t0000000000003000\n')).toEqual({ bind: false, raw: true }); // bits 12, 13
    expect(capsFromStatus('CapEff:\t0000000000002400\n')).toEqual({ bind: true, raw: true });
    expect(capsFromStatus('CapEff:\t0000000000000400\n')).toEqual({ bind: true, raw: false });
    expect(capsFromStatus('garbage')).toEqual({ bind: false, raw: false });
  });
});

describe('gathering over a real data dir', () => {
  const probes: MachineProbes = {
    identity: () => ({ root: true, bind: true, raw: true, unprivilegedPortStart: 1024 }),
    link: () => ({ exists: true, carrier: true, operstate: 'up', ipv4: ['10.9.0.1/24'] }),
    port: async () => 'free',
    freeBytes: async () => 50 * 1024 ** 3,
    dhcpProbe: async () => ({ servers: [], overflow: 0 }),
  };
  const config = (dataDir: string, over: Partial<Config> = {}): Config =>
    finalizeConfig({
      iface: 'eth1',
      ifindex: 2,
      address: { ip: '10.9.0.1', prefix: 24 },
      dhcp: 'proxy',
      range: null,
      force: false,
      dataDir,
      http: { host: '10.9.0.1', port: 8026 },
      publicUrl: 'http://10.9.0.1:8026',
      admin: { host: '127.0.0.1', port: 8027, exposed: false, hostnames: [], tls: null, sessionIdleS: 3600, sessionMaxS: 7200 },
      lab: null,
      microkernelDir: null,
      tftpRoot: null,
      efiLoader: 'ipxe.efi',
      logLevel: 'silent',
      rateLimitPerMin: 0,
      pools: [],
      dhcpOptions: [],
      conflictCheck: false,
      dhcpWarmStart: false,
      ports: { dhcp: 67, proxy: 4011, tftp: 69 },
      ...over,
    });
  const gather = (c: Config, root: string) =>
    gatherReadiness(c, { probes, hashes: new HashCache(), root, nicRequired: true, ports: 'probe', dhcpProbe: 'run' });

  it('finds prepared loaders and microkernel in the data dir, and fails on a tampered loader there', async () => {
    const root = await tmpDir('cc-ready-root-'); // an install root with nothing shipped
    const d = await tmpDir('cc-ready-data-');
    await fs.mkdir(path.join(d, 'loaders'));
    for (const f of ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'])
      await fs.copyFile(path.join(REPO_ROOT, 'resources', 'ipxe', f), path.join(d, 'loaders', f));
    await writeMicrokernel(path.join(d, 'microkernel', 'amd64'), 'ready-1');
    const ok = await gather(config(d), root);
    expect(ok.ready).toBe(true);
    expect(row(ok.rows, 'loader-ipxe-bios').detail).toMatch(/undionly\.kpxe verified \(in the data dir\)/);
    expect(row(ok.rows, 'microkernel-amd64').detail).toMatch(/ready-1, .* in the data dir, verified/);
    expect(ok.rows.map((r) => r.id)).toEqual(
      expect.arrayContaining(['port-dhcp', 'port-proxy', 'port-tftp', 'port-http', 'port-admin', 'dhcp-servers']),
    );

    await fs.appendFile(path.join(d, 'loaders', 'ipxe.efi'), 'x');
    const bad = await gather(config(d), root);
    expect(row(bad.rows, 'loader-ipxe-efi-x64')).toMatchObject({ status: 'fail', detail: expect.stringContaining('ipxe.efi mismatch') });
    await fs.appendFile(path.join(d, 'microkernel', 'amd64', 'initrd.img'), 'x');
    expect(row((await gather(config(d), root)).rows, 'microkernel-amd64')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('initrd.img differ'),
    });
  });

  it("finds each architecture's microkernel where serving finds it: beside --microkernel, or prepared in the data dir", async () => {
    const root = await tmpDir('cc-ready-root-');
    const d = await tmpDir('cc-ready-data-');
    const kit = await tmpDir('cc-ready-kit-'); // the layout build/out/ has: microkernel/ and microkernel-arm64/ side by side
    await writeMicrokernel(path.join(kit, 'microkernel'), 'kit-amd64');
    const flag = path.join(kit, 'microkernel');
    const agree = async (r: Readiness) => {
      for (const arch of ['amd64', 'arm64'] as const) {
        const served = findMicrokernelFor(d, flag, arch);
        const shown = row(r.rows, `microkernel-${arch}`);
        if (served) expect(shown.detail).toContain(served.version);
        else expect(shown.detail).toMatch(/^none/);
      }
    };
    const noArm = await gather(config(d, { microkernelDir: flag }), root);
    expect(row(noArm.rows, 'microkernel-arm64').detail).toMatch(/^none/);
    expect(row(noArm.rows, 'arch-arm64').detail).toMatch(/^not ready: microkernel arm64 missing/);
    await agree(noArm);

    await writeMicrokernel(path.join(kit, 'microkernel-arm64'), 'kit-arm64');
    const beside = await gather(config(d, { microkernelDir: flag }), root);
    expect(row(beside.rows, 'microkernel-arm64').detail).toMatch(/kit-arm64, .* from --microkernel, verified/);
    await agree(beside);

    // A prepared copy in the data dir is what the operator asked for: it wins, for doctor and for serving alike.
    await writeMicrokernel(path.join(d, 'microkernel', 'arm64'), 'prepared-arm64');
    const prepared = await gather(config(d, { microkernelDir: flag }), root);
    expect(row(prepared.rows, 'microkernel-arm64').detail).toMatch(/prepared-arm64, .* in the data dir, verified/);
    expect(findMicrokernelFor(d, flag, 'arm64')?.version).toBe('prepared-arm64');
    expect(findMicrokernelFor(d, null, 'arm64')?.version).toBe('prepared-arm64');
    await agree(prepared);
    expect(microkernelDirsFor(d, flag, 'amd64', root)).toEqual([flag]); // the flag is the only place for amd64
  });

  it('an empty data dir on an empty install root fails for loaders and microkernel; --tftp-root files count as custom', async () => {
    const root = await tmpDir('cc-ready-root-');
    const d = await tmpDir('cc-ready-empty-');
    const r = await gather(config(d), root);
    expect(r.rows.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual([
      'loader-ipxe-bios',
      'loader-ipxe-efi-x64',
      'microkernel-amd64',
    ]);
    const tftp = await tmpDir('cc-ready-tftp-');
    await fs.writeFile(path.join(tftp, 'undionly.kpxe'), 'my own build');
    expect(row((await gather(config(d, { tftpRoot: tftp }), root)).rows, 'loader-ipxe-bios')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('custom (in --tftp-root)'),
    });
  });
});
