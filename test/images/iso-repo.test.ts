/**
 * Installer ISOs as repositories, end to end with real parts: ISOs built here by xorriso from tiny package
 * trees, imported by the real `crashcart image import --iso` into a running `crashcart serve` (through its
 * admin API), fetched from the node plane by curl (GET, HEAD, Range, through the ISO's own symbolic links),
 * and the Debian, Ubuntu and Rocky answer files rendered for a node pointing at the appliance. Hostile ISOs
 * are refused with the reason, and the store, the image folder and the staging folder stay as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { DEB_TREE, RPM_TREE, makeIso, patchRecord, renameRecord } from './harness/iso.ts';
import { run } from './harness/tools.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
/** curl, the real HTTP client: status line and headers (-i), or the body. */
const curl = (args: string[]) => run('curl', ['-sS', '--max-time', '60', ...args]);

let a: ProcessAppliance;
let work = '';
let token = '';
const admin = async (method: string, url: string, body?: unknown) => {
  const r = await fetch(`${a.adminUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json().catch(() => null)) as any };
};
const iso = (name: string, files: Record<string, string | Buffer>, links: Record<string, string> = {}) =>
  makeIso(path.join(work, `${name}.iso`), path.join(work, name), files, links);

beforeAll(async () => {
  const dataDir = await tmpDir('cc-iso-repo-');
  work = await tmpDir('cc-iso-repo-files-');
  a = await spawnAppliance(['--microkernel', path.join(dataDir, 'microkernel')], { dataDir });
  token = await a.token();
}, 120_000);
afterAll(async () => {
  await a.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('image import --iso with a running appliance', () => {
  it('unpacks a Debian tree; curl gets Release, Packages and a .deb (HEAD, Range, the stable link)', async () => {
    const r = cli([
      'image',
      'import',
      '--iso',
      iso('deb', DEB_TREE, { 'dists/stable': 'bookworm', debian: '.' }),
      '--name',
      'deb12',
      '--data-dir',
      a.dataDir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`importing through ${a.adminUrl}`);
    expect(r.stdout).toMatch(/image deb12: deb repository from ISO "CCTEST" \(rock-ridge names\)/);
    const img = (await admin('GET', '/api/v1/images')).body.images.find((i: { name: string }) => i.name === 'deb12');
    expect(img).toMatchObject({ kind: 'iso', files: [], repo: { kind: 'deb', path: 'repo', suites: ['bookworm'], files: 4, symlinks: 2 } });
    const base = `${a.nodeUrl}/images/deb12/repo`;
    expect(curl([`${base}/dists/bookworm/Release`])).toBe(DEB_TREE['dists/bookworm/Release']);
    expect(curl([`${base}/dists/stable/main/binary-amd64/Packages`])).toBe(DEB_TREE['dists/bookworm/main/binary-amd64/Packages']);
    expect(curl([`${base}/debian/dists/bookworm/Release`])).toBe(DEB_TREE['dists/bookworm/Release']);
    const head = curl(['-I', `${base}/pool/main/h/hello/hello_2.10-3_amd64.deb`]);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/content-length: 70000/i);
    expect(head).toMatch(/accept-ranges: bytes/i);
    const part = curl(['-i', '-r', '69990-', `${base}/pool/main/h/hello/hello_2.10-3_amd64.deb`]);
    expect(part).toMatch(/^HTTP\/1\.1 206/);
    expect(part).toMatch(/content-range: bytes 69990-69999\/70000/i);
    // Dot names stay unserved (the node plane's rule), whatever the ISO holds.
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/.disk/info`])).toBe('404');
  }, 120_000);

  it('unpacks an RPM DVD; curl gets both repomd.xml and the installation tree', async () => {
    const r = cli(['image', 'import', '--iso', iso('rpm', RPM_TREE), '--name', 'rocky9', '--data-dir', a.dataDir]);
    expect(r.status, r.stderr).toBe(0);
    const img = (await admin('GET', '/api/v1/images')).body.images.find((i: { name: string }) => i.name === 'rocky9');
    expect(img.repo).toMatchObject({ kind: 'rpm', repos: ['AppStream', 'BaseOS'], install_tree: true });
    const base = `${a.nodeUrl}/images/rocky9/repo`;
    expect(curl([`${base}/BaseOS/repodata/repomd.xml`])).toBe(RPM_TREE['BaseOS/repodata/repomd.xml']);
    expect(curl([`${base}/AppStream/repodata/repomd.xml`])).toBe(RPM_TREE['AppStream/repodata/repomd.xml']);
    // Anaconda falls back to `treeinfo` when `.treeinfo` is not served.
    expect(curl([`${base}/treeinfo`])).toBe(RPM_TREE['.treeinfo']);
    expect(curl(['-I', `${base}/images/install.img`])).toMatch(/content-length: 4096/i);
  }, 120_000);

  it('the Debian, Ubuntu and Rocky answer files point at the appliance repository', async () => {
    const boot = await fetch(`${a.nodeUrl}/boot?mac=52:54:00:15:00:01&arch=x86_64&platform=efi`);
    expect(boot.status).toBe(200);
    const node = (await admin('GET', '/api/v1/nodes')).body.nodes.find((n: { macs: string[] }) => n.macs.includes('52:54:00:15:00:01'));
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2wvBZZrdpnTgrnjd74QAoPX+Flcy1t953bsehEXVV6 op@example';
    const policy = async (name: string, task: string, image: string, metadata?: Record<string, string>) => {
      const p = await admin('POST', '/api/v1/policies', {
        name,
        task,
        image,
        ssh_keys: [key],
        enabled: false,
        ...(metadata ? { metadata } : {}),
      });
      expect(p.status, JSON.stringify(p.body)).toBe(201);
      return (await admin('POST', `/api/v1/tasks/${task}/preview`, { node_id: node.id, policy: name })).body as {
        ipxe: string;
        files: Record<string, string>;
      };
    };
    const host = new URL(a.nodeUrl).host;
    const deb = await policy('deb-offline', 'debian', 'deb12');
    expect(deb.files['preseed.cfg']).toContain(`d-i mirror/http/hostname string ${host}\n`);
    expect(deb.files['preseed.cfg']).toContain('d-i mirror/http/directory string /images/deb12/repo\n');
    expect(deb.files['preseed.cfg']).toContain('d-i apt-setup/services-select multiselect\n');
    const ubu = await policy('ubu-offline', 'ubuntu', 'deb12');
    expect(ubu.files['user-data']).toContain(`      - arches: [default]\n        uri: ${a.nodeUrl}/images/deb12/repo\n`);
    // Rocky needs no repo_url when its image carries a repository.
    const rocky = await policy('rocky-offline', 'rocky', 'rocky9');
    expect(rocky.files['ks.cfg']).toContain(`url --url=${a.nodeUrl}/images/rocky9/repo/\n`);
    expect(rocky.ipxe).toContain(`inst.repo=${a.nodeUrl}/images/rocky9/repo/ `);
    // The operator's own mirror still wins.
    const own = await policy('deb-own', 'debian', 'deb12', { mirror_host: 'mirror.lan', mirror_dir: '/debian' });
    expect(own.files['preseed.cfg']).toContain('d-i mirror/http/hostname string mirror.lan\n');
    expect(own.files['preseed.cfg']).not.toContain('services-select');
    // Without a repository in the image, Rocky still asks for repo_url.
    const none = await admin('POST', '/api/v1/policies', { name: 'rocky-none', task: 'rocky', image: 'deb12', ssh_keys: [key] });
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('Repository URL');
  }, 60_000);
});

describe('hostile ISOs are refused and change nothing', () => {
  const state = async () => ({
    images: (await admin('GET', '/api/v1/images')).body.images.map((i: { name: string }) => i.name).sort(),
    dirs: fs.readdirSync(path.join(a.dataDir, 'images')).sort(),
    staging: fs.existsSync(path.join(a.dataDir, 'images-staging')) ? fs.readdirSync(path.join(a.dataDir, 'images-staging')) : [],
  });
  const good = () => fs.readFileSync(path.join(work, 'deb.iso'));
  // [what, the ISO, the reason, through the CLI (else the API route it uses, to keep the suite short)]
  const cases: [string, () => string, RegExp, boolean?][] = [
    [
      'an absolute symbolic link',
      () => iso('abs', DEB_TREE, { passwd: '/etc/passwd' }),
      /passwd is a symbolic link to "\/etc\/passwd", outside the ISO's tree/,
      true,
    ],
    [
      'a link up and out',
      () => iso('up', DEB_TREE, { 'dists/x': '../../../etc' }),
      /dists\/x is a symbolic link to "..\/..\/..\/etc", outside/,
    ],
    [
      'a link that leaves through another link',
      () => iso('via', DEB_TREE, { d: '.', e: 'd/..' }),
      /e -> d\/.. resolves outside the ISO's tree/,
    ],
    [
      'a ".." name',
      () => {
        const f = path.join(work, 'dotdot.iso');
        fs.writeFileSync(f, renameRecord(fs.readFileSync(iso('dd', { ...DEB_TREE, zz: 'x' })), 'zz', '..'));
        return f;
      },
      /refused name "\.\."/,
    ],
    [
      'a file larger than the image',
      () => {
        const f = path.join(work, 'huge.iso');
        fs.writeFileSync(
          f,
          patchRecord(good(), 'pool/main/h/hello/hello_2.10-3_amd64.deb', (r) => ({ ...r, size: 0xfffffff0 })),
        );
        return f;
      },
      /pass the end of the image/,
    ],
    [
      'records sharing one extent (a bomb)',
      () => {
        let b: Buffer = good();
        const size = b.length;
        for (const p of ['dists/bookworm/Release', 'dists/bookworm/main/binary-amd64/Packages', 'pool/main/h/hello/hello_2.10-3_amd64.deb'])
          b = patchRecord(b, p, (r) => ({ ...r, extent: 0, size }));
        const f = path.join(work, 'bomb.iso');
        fs.writeFileSync(f, b);
        return f;
      },
      /declare \d+ bytes in a \d+-byte image/,
    ],
    ['an ISO without a repository', () => iso('plain', { 'README.txt': 'hello' }), /has no dists\/\*\/Release and no repodata/, true],
  ];
  it.each(cases)(
    '%s',
    async (_what, make, reason, viaCli) => {
      const before = await state();
      const file = make();
      if (viaCli) {
        const r = cli(['image', 'import', '--iso', file, '--name', 'evil', '--data-dir', a.dataDir]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(reason);
        expect(r.stderr).toMatch(/CC_ERR_ISO_(INVALID|NO_REPO)/);
      } else {
        const r = await fetch(`${a.adminUrl}/api/v1/images/evil/iso`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
          body: fs.readFileSync(file),
        });
        const body = (await r.json()) as { code: string; message: string; fix: string };
        expect(r.status).toBe(422);
        expect(body.code).toBe('CC_ERR_ISO_INVALID');
        expect(body.message).toMatch(reason);
        expect(body.fix).toMatch(/published sha256/);
      }
      expect(await state()).toEqual(before);
    },
    60_000,
  );
});
