/**
 * The headless package installed for real: `dpkg -i` into a clean Debian 12 root (mmdebstrap minbase +
 * systemd + the package's declared Depends, nothing else), then inside that root, chrooted in a network
 * namespace of its own: the postinst made the service user with systemd-sysusers, `crashcart doctor` judges the
 * namespace's NIC with what the package carries, and `crashcart serve` runs the way the unit runs it (the
 * service user, only CAP_NET_BIND_SERVICE and CAP_NET_RAW, its state directory) in proxy mode on that NIC. A
 * client outside the root, across a veth in another namespace, reaches the HTTPS admin API with the token
 * (verifying the certificate the appliance made) and the node plane. `dpkg --purge` then removes the files,
 * the unit and the data. Shares the package build of the run with deb.test.ts (deb-cache.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { tmpDir } from '../support/appliance.ts';
import { BUILD_TIMEOUT_MS, dependsNames, ensureDeb, requireCleanRoot } from './deb-cache.ts';

const lab = new Lab('pkg', 'inst');
/** The appliance's namespace (the root runs here) and the client's, joined by a veth. */
const APP_NS = 'app';
const CLIENT_NS = 'cli';
const APP_IP = '10.77.0.1';
const CLIENT_IP = '10.77.0.2';
const ADMIN = `${APP_IP}:8027`;
/** The unit's data dir and user (resources/systemd/crashcart.service). */
const STATE = '/var/lib/crashcart';

let deb = '';
let root = '';
let serve: ChildProcess | null = null;
let serveOut = '';

/**
 * argv that runs `cmd` chrooted into the root inside the appliance's namespace, with /proc and that namespace's
 * /sys mounted in a private mount namespace (gone when the command ends: nothing to unmount).
 */
function inRoot(cmd: string[]): string[] {
  const script = 'mount -t proc proc "$0/proc" && mount -t sysfs sysfs "$0/sys" && exec chroot "$0" "$@"';
  return ['ip', 'netns', 'exec', lab.ns(APP_NS), 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, root, ...cmd];
}

/** Run to the end inside the root. */
function runInRoot(cmd: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const [c, ...a] = inRoot(cmd);
  const r = spawnSync(c!, a, { encoding: 'utf8', timeout: 300_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}${r.error ? r.error.message : ''}` };
}

/** The unit's ExecStart as the unit runs it: its user, its two ambient capabilities, nothing else. */
function asService(args: string[]): string[] {
  const caps = '+net_bind_service,+net_raw';
  return [
    'setpriv',
    '--reuid=crashcart',
    '--regid=crashcart',
    '--init-groups',
    `--inh-caps=-all,${caps}`,
    `--ambient-caps=-all,${caps}`,
    `--bounding-set=-all,${caps}`,
    '--no-new-privs',
    '/usr/bin/crashcart',
    ...args,
  ];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  deb = ensureDeb();
  const depends = dependsNames(execFileSync('dpkg-deb', ['-f', deb, 'Depends'], { encoding: 'utf8' }));
  const tar = requireCleanRoot(depends); // built by ensure-test-deps: nothing is downloaded here
  root = await tmpDir('cc-pkg-root-');
  execFileSync('tar', ['-xpf', tar, '-C', root, '--numeric-owner']);
  fs.copyFileSync(deb, path.join(root, 'tmp', 'crashcart.deb'));
  lab.addNs(APP_NS);
  lab.addNs(CLIENT_NS);
  lab.plug(APP_NS, 'eth0', `${APP_IP}/24`, { peerNs: CLIENT_NS, peerIf: 'eth0', peerCidr: `${CLIENT_IP}/24` });
}, BUILD_TIMEOUT_MS * 2);

afterAll(async () => {
  if (serve?.pid && serve.exitCode === null) serve.kill('SIGKILL');
  await lab.cleanup();
  // The mounts lived in private mount namespaces that ended with their processes: a plain tree remains.
  if (root) fs.rmSync(root, { recursive: true, force: true });
  expect(lab.leftovers()).toEqual([]);
});

describe('crashcart_VERSION_amd64.deb in a clean Debian 12 root', { timeout: 300_000 }, () => {
  it('dpkg -i installs it; postinst made the service user (systemd-sysusers), a system user without login', () => {
    const r = runInRoot(['dpkg', '-i', '/tmp/crashcart.deb']);
    expect(r.status, r.out).toBe(0);
    expect(runInRoot(['dpkg-query', '-W', '-f=${Status}', 'crashcart']).out).toBe('install ok installed');
    const pw = runInRoot(['getent', 'passwd', 'crashcart']).out.trim().split(':');
    // The comment field comes from crashcart.sysusers: systemd-sysusers made it (the useradd fallback sets none).
    expect(pw[4]).toBe('Crashcart provisioning appliance');
    expect(pw[5]).toBe(STATE);
    expect(pw[6]).toBe('/usr/sbin/nologin');
    expect(Number(pw[2])).toBeLessThan(1000);
    expect(runInRoot(['getent', 'group', 'crashcart']).out).toMatch(/^crashcart:/);
    expect(fs.existsSync(path.join(root, 'lib', 'systemd', 'system', 'crashcart.service'))).toBe(true);
    // The root has no nodejs: the wrapper runs the packaged one (doctor below runs through it).
    expect(fs.existsSync(path.join(root, 'usr', 'bin', 'node'))).toBe(false);
  });

  it('crashcart doctor reports the NIC, the shipped loaders and microkernel, and no failure', () => {
    // The unit's StateDirectory=crashcart, StateDirectoryMode=0700 (systemd makes it; no systemd runs here).
    fs.mkdirSync(path.join(root, STATE), { mode: 0o700 });
    const id = runInRoot(['id', '-u', 'crashcart']).out.trim();
    fs.chownSync(path.join(root, STATE), Number(id), Number(id));
    const r = runInRoot(asService(['doctor', '--data-dir', STATE, '--iface', 'eth0', '--dhcp', 'proxy']), { HOME: STATE });
    expect(r.out).toMatch(/^ {2}ok +privileges +CAP_NET_BIND_SERVICE, CAP_NET_RAW/m);
    expect(r.out).toMatch(/^ {2}ok +provisioning NIC +eth0 /m);
    expect(r.out).toMatch(/^ {2}ok +x86 BIOS +undionly\.kpxe verified \(shipped with this install\)$/m);
    expect(r.out).toMatch(/^ {2}ok +microkernel amd64 +.*shipped with this install, verified$/m);
    expect(r.out).not.toMatch(/^ {2}FAIL /m);
    expect(r.status, r.out).toBe(0);
  });

  it('crashcart serve (proxy, on the namespace NIC, as the unit runs it) answers a client outside the root', async () => {
    const [c, ...a] = inRoot(
      asService(['serve', '--data-dir', STATE, '--iface', 'eth0', '--dhcp', 'proxy', '--admin-listen', ADMIN, '--admin-token-required']),
    );
    serve = (await import('node:child_process')).spawn(c!, a, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: STATE, TMPDIR: '/tmp' },
    });
    lab.children.push(serve);
    serve.stdout!.on('data', (d: Buffer) => (serveOut += d.toString()));
    serve.stderr!.on('data', (d: Buffer) => (serveOut += d.toString()));
    const t0 = Date.now();
    while (!/Crashcart UI:\s*\S+/.test(serveOut)) {
      if (serve.exitCode !== null) throw new Error(`serve exited ${serve.exitCode}:\n${serveOut}`);
      if (Date.now() - t0 > 180_000) throw new Error(`serve did not start:\n${serveOut}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const token = fs.readFileSync(path.join(root, STATE, 'admin-token'), 'utf8').trim();
    const cert = fs
      .readdirSync(path.join(root, STATE), { recursive: true, encoding: 'utf8' })
      .find((f) => path.basename(f) === 'admin-cert.pem');
    expect(cert, 'the appliance made its admin certificate').toBeTruthy();
    const curl = (args: string[]) =>
      spawnSync('ip', ['netns', 'exec', lab.ns(CLIENT_NS), 'curl', '-sS', '--max-time', '60', ...args], { encoding: 'utf8' });
    const url = `https://${ADMIN}/api/v1/readiness`;
    const ca = path.join(root, STATE, cert!);
    const ok = curl(['--cacert', ca, '-H', `authorization: Bearer ${token}`, url]);
    expect(ok.status, ok.stderr).toBe(0);
    const ready = JSON.parse(ok.stdout) as { mode: string; rows: { id: string; status: string; detail: string }[] };
    expect(ready.mode).toBe('proxy');
    expect(ready.rows.find((r) => r.id === 'microkernel-amd64')).toMatchObject({ status: 'ok' });
    expect(ready.rows.find((r) => r.id === 'loader-ipxe-bios')?.detail).toMatch(/shipped with this install/);
    // Without the token: refused.
    expect(curl(['--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}', url]).stdout).toBe('401');
    // The node plane serves the loader the package carries, byte for byte.
    const loader = spawnSync(
      'ip',
      ['netns', 'exec', lab.ns(CLIENT_NS), 'curl', '-sS', '--max-time', '60', `http://${APP_IP}:8026/ipxe/undionly.kpxe`],
      {
        maxBuffer: 16 << 20,
      },
    );
    expect(loader.status).toBe(0);
    expect(sha256(loader.stdout)).toBe(
      sha256(fs.readFileSync(path.join(root, 'usr', 'lib', 'crashcart', 'resources', 'ipxe', 'undionly.kpxe'))),
    );
    // ... through the package's own sendfile(2) addon (build/native.mjs), which the service loaded with the TFTP pump.
    const maps = fs.readFileSync(`/proc/${serve.pid}/maps`, 'utf8');
    expect(maps).toContain('/usr/lib/crashcart/build/out/native/crashcart-sendfile-linux-x64.node');
    expect(maps).toContain('/usr/lib/crashcart/build/out/native/crashcart-tftp-pump-linux-x64.node');
    expect(maps).toContain('/usr/lib/crashcart/build/out/native/crashcart-udp-batch-linux-x64.node');
    // It ran as the service user, not root.
    expect(fs.readFileSync(`/proc/${serve.pid}/status`, 'utf8')).toMatch(
      new RegExp(`^Uid:\\s+${fs.statSync(path.join(root, STATE)).uid}\\s`, 'm'),
    );
    serve.kill('SIGTERM');
    await new Promise((r) => (serve!.exitCode !== null ? r(null) : serve!.once('exit', r)));
  });

  it('crashcart serve --lab sim:4 from the installed root: four simulated machines register and the API outside lists them', async () => {
    const [c, ...a] = inRoot(
      asService(['serve', '--lab', 'sim:4', '--data-dir', STATE, '--admin-listen', ADMIN, '--admin-token-required']),
    );
    let out = '';
    const lab4 = (await import('node:child_process')).spawn(c!, a, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: STATE, TMPDIR: '/tmp' },
    });
    lab.children.push(lab4);
    lab4.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    lab4.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const token = fs.readFileSync(path.join(root, STATE, 'admin-token'), 'utf8').trim();
      const cert = fs
        .readdirSync(path.join(root, STATE), { recursive: true, encoding: 'utf8' })
        .find((f) => path.basename(f) === 'admin-cert.pem');
      const ca = path.join(root, STATE, cert!);
      const t0 = Date.now();
      let macs: string[] = [];
      // Poll the admin API from the client namespace until the four simulated machines have registered.
      while (macs.length < 4) {
        if (lab4.exitCode !== null) throw new Error(`serve --lab exited ${lab4.exitCode}:\n${out}`);
        if (Date.now() - t0 > 240_000) throw new Error(`only ${macs.length} of 4 simulated machines registered in 240 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 1000));
        const r = spawnSync(
          'ip',
          [
            'netns',
            'exec',
            lab.ns(CLIENT_NS),
            'curl',
            '-sS',
            '--max-time',
            '10',
            '--cacert',
            ca,
            '-H',
            `authorization: Bearer ${token}`,
            `https://${ADMIN}/api/v1/nodes?limit=100`,
          ],
          { encoding: 'utf8' },
        );
        if (r.status !== 0) continue; // not listening yet
        const body = JSON.parse(r.stdout) as { nodes: { boot_mac: string | null; state: string }[] };
        macs = body.nodes.filter((n) => n.state !== 'expected' && n.boot_mac).map((n) => n.boot_mac!);
      }
      expect(new Set(macs).size).toBe(4);
    } finally {
      // Bounded, so a starved or stuck appliance fails this test with its output above instead of its timeout.
      lab4.kill('SIGTERM');
      const killer = setTimeout(() => lab4.kill('SIGKILL'), 15_000);
      await new Promise((r) => (lab4.exitCode !== null ? r(null) : lab4.once('exit', r)));
      clearTimeout(killer);
    }
  });

  it('dpkg --purge removes the files, the unit and the data; the service user stays', () => {
    const r = runInRoot(['dpkg', '--purge', 'crashcart']);
    expect(r.status, r.out).toBe(0);
    for (const p of [
      'usr/lib/crashcart',
      'usr/bin/crashcart',
      'lib/systemd/system/crashcart.service',
      'usr/lib/sysusers.d/crashcart.conf',
      'var/lib/crashcart',
    ])
      expect(fs.existsSync(path.join(root, p)), p).toBe(false);
    expect(runInRoot(['dpkg-query', '-W', '-f=${Status}', 'crashcart']).out).not.toMatch(/installed/);
    expect(runInRoot(['getent', 'passwd', 'crashcart']).status).toBe(0);
  });
});
