/**
 * The headless Debian package (`npm run package:deb`, build/package-deb.mjs): built with dpkg-deb from the
 * checkout's loaders and microkernel, its control data and contents checked, then unpacked (dpkg-deb -x) and
 * started the way the package starts it: the packaged Node runtime running the packaged core bundle, which
 * serves a simulated rack and finds the loaders and microkernel the package carries. The install with dpkg -i
 * into a clean Debian 12 root: deb-install.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { BUILD_TIMEOUT_MS, ensureDeb } from './deb-cache.ts';
import fs from 'node:fs';
import path from 'node:path';
import { readToken, tmpDir } from '../support/appliance.ts';

let out = '';
let deb = '';
let x = '';
let serve: ChildProcess | null = null;
const lib = () => path.join(x, 'usr', 'lib', 'crashcart');

beforeAll(async () => {
  // One build per run, shared with deb-install.test.ts (test/package/deb-cache.ts).
  deb = ensureDeb();
  out = await tmpDir('cc-deb-');
  x = path.join(out, 'x');
  execFileSync('dpkg-deb', ['-x', deb, x]);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

describe('crashcart_VERSION_amd64.deb', () => {
  it('says what it is and needs no system nodejs', () => {
    const f = (k: string) => execFileSync('dpkg-deb', ['-f', deb, k], { encoding: 'utf8' }).trim();
    expect(f('Package')).toBe('crashcart');
    expect(f('Architecture')).toBe('amd64');
    expect(f('Depends')).not.toMatch(/nodejs/);
    expect(Number(f('Installed-Size'))).toBeGreaterThan(50_000);
  });

  it('carries the runtime, the core bundle and what it requires, the UI, loaders, microkernel, unit, user and wrapper; no sources', () => {
    const list = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 });
    for (const p of [
      './usr/bin/crashcart',
      './usr/lib/crashcart/node/bin/node',
      './usr/lib/crashcart/dist/crashcart.mjs',
      './usr/lib/crashcart/build/out/native/crashcart-sendfile-linux-x64.node',
      './usr/lib/crashcart/build/out/native/crashcart-tftp-pump-linux-x64.node',
      './usr/lib/crashcart/build/out/native/crashcart-udp-batch-linux-x64.node',
      './usr/lib/crashcart/renderer/dist/index.html',
      './usr/lib/crashcart/node_modules/sockopt/package.json',
      './usr/lib/crashcart/node_modules/@seald-io/nedb/package.json',
      './usr/lib/crashcart/resources/ipxe/undionly.kpxe',
      './usr/lib/crashcart/resources/ipxe/ipxe.efi',
      './usr/lib/crashcart/resources/microkernel/amd64/initrd.img',
      // The kernel iPXE boots (an x86-64 build makes it; docs/microkernel.md).
      './usr/lib/crashcart/resources/microkernel/amd64/vmlinuz-zstd',
      './lib/systemd/system/crashcart.service',
      './usr/lib/sysusers.d/crashcart.conf',
    ])
      expect(list).toContain(` ${p}\n`);
    // No Crashcart sources: the core is the bundle (the modules it requires bring their own .d.ts files).
    expect(list.split('\n').filter((l) => /\.(ts|vue)$/.test(l) && !l.includes('/node_modules/'))).toEqual([]);
    expect(list).not.toMatch(/ \.\/usr\/lib\/crashcart\/(server|agent|contract)\//);
    // Owned by root whoever built it (--root-owner-group).
    expect(list.split('\n').filter((l) => l && !l.includes(' root/root '))).toEqual([]);
  });

  it('the unit gives the two capabilities to its own user and runs the wrapper; the wrapper runs the packaged node', () => {
    const unit = fs.readFileSync(path.join(x, 'lib', 'systemd', 'system', 'crashcart.service'), 'utf8');
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW$/m);
    expect(unit).toMatch(/^User=crashcart$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/crashcart serve --data-dir \/var\/lib\/crashcart \$CRASHCART_ARGS$/m);
    const wrapper = fs.readFileSync(path.join(x, 'usr', 'bin', 'crashcart'), 'utf8');
    expect(wrapper).toContain('exec /usr/lib/crashcart/node/bin/node /usr/lib/crashcart/bin/crashcart.mjs "$@"');
    expect(fs.statSync(path.join(x, 'usr', 'bin', 'crashcart')).mode & 0o111).toBe(0o111);
    expect(fs.readFileSync(path.join(x, 'usr', 'lib', 'sysusers.d', 'crashcart.conf'), 'utf8')).toMatch(/^u crashcart /m);
    const postinst = execFileSync('dpkg-deb', ['-I', deb, 'postinst'], { encoding: 'utf8' });
    expect(postinst).toMatch(/useradd --system/);
    expect(execFileSync(path.join(lib(), 'node', 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim()).toBe('v20.20.2');
  });

  it(
    'the packaged node runs the packaged core: doctor finds the shipped loaders and microkernel; serve --lab sim:4 answers its API',
    async () => {
      const node = path.join(lib(), 'node', 'bin', 'node');
      const cli = path.join(lib(), 'bin', 'crashcart.mjs');
      const data = await tmpDir('cc-deb-data-');
      // doctor judges the rack configuration: with no --iface here, the NIC row fails.
      const doc = spawnSync(node, [cli, 'doctor', '--data-dir', data], { encoding: 'utf8', cwd: '/', timeout: 120_000 });
      expect(doc.stdout, doc.stderr).toMatch(/^ {2}ok +microkernel amd64 +.*shipped with this install, verified$/m);
      expect(doc.stdout).toMatch(/^ {2}ok +x86 BIOS +undionly\.kpxe verified \(shipped with this install\)$/m);
      const fails = doc.stdout.match(/^ {2}FAIL +.*$/gm) ?? [];
      expect(fails).toContainEqual(expect.stringMatching(/provisioning NIC +none chosen/));
      // Ports another program on this machine may hold are not the package's business; nothing else may fail.
      expect(fails.filter((l) => !/provisioning NIC|\d+\/(tcp|udp)/.test(l))).toEqual([]);
      expect(doc.status).toBe(1);
      serve = spawn(node, [cli, 'serve', '--lab', 'sim:4', '--data-dir', data, '--admin-listen', '127.0.0.1:0', '--http-port', '0'], {
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      serve.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      serve.stderr!.on('data', (d: Buffer) => (text += d.toString()));
      const t0 = Date.now();
      while (!/Crashcart UI:\s*\S+/.test(text)) {
        if (serve.exitCode !== null) throw new Error(`the packaged serve exited:\n${text}`);
        if (Date.now() - t0 > 120_000) throw new Error(`the packaged serve did not start:\n${text}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      const admin = new URL(/Crashcart UI:\s*(\S+)/.exec(text)![1]!).origin;
      const auth = { authorization: `Bearer ${await readToken(data)}` };
      const ready = (await (await fetch(`${admin}/api/v1/readiness`, { headers: auth })).json()) as {
        rows: { id: string; status: string; detail: string }[];
      };
      const mk = ready.rows.find((r) => r.id === 'microkernel-amd64');
      expect(mk?.detail).toMatch(/shipped with this install/);
      expect(ready.rows.find((r) => r.id === 'loader-ipxe-bios')?.detail).toMatch(/undionly\.kpxe .*shipped with this install/);
      let nodes = 0;
      while (nodes < 4 && Date.now() - t0 < 180_000) {
        nodes = ((await (await fetch(`${admin}/api/v1/nodes`, { headers: auth })).json()) as { total: number }).total;
        if (nodes < 4) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(nodes).toBe(4);
      // The UI the package carries is what the admin plane serves.
      expect(await (await fetch(`${admin}/`)).text()).toBe(fs.readFileSync(path.join(lib(), 'renderer', 'dist', 'index.html'), 'utf8'));
    },
    5 * 60_000,
  );
});
