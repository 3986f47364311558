/**
 * One process per data dir (issue 10 §4): a second appliance refuses with the
 * fix; CLI commands that change data go through the running appliance; a
 * SIGKILLed holder leaves nothing that blocks the next start.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { openStore } from '../../server/store/store.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

let a: ProcessAppliance;
let files: string;
beforeAll(async () => {
  const dataDir = await tmpDir('cc-lock-');
  a = await spawnAppliance(['--microkernel', path.join(dataDir, 'microkernel', 'amd64')], { dataDir });
  files = await tmpDir('cc-lock-files-');
  await fs.writeFile(path.join(files, 'linux'), Buffer.alloc(200_000, 1));
  await fs.writeFile(path.join(files, 'initrd.gz'), Buffer.alloc(9000, 2));
  await fs.writeFile(path.join(files, 'vmlinuz'), Buffer.alloc(4096, 7));
  await fs.writeFile(path.join(files, 'initrd.img'), Buffer.alloc(10_000, 9));
  await fs.writeFile(path.join(files, 'manifest.json'), JSON.stringify({ version: 'lock-test-1' }));
});
afterAll(async () => {
  await a.stop();
});

const api = async (p: string, init: RequestInit = {}) =>
  fetch(`${a.adminUrl}${p}`, { ...init, headers: { authorization: `Bearer ${await a.token()}`, ...(init.headers ?? {}) } });

describe('data dir lock', () => {
  it('a second appliance on the same data dir refuses, naming the holder and the fix', () => {
    const r = cli(['serve', '--data-dir', a.dataDir, '--lab', 'off', '--http-port', '0', '--admin-listen', '127.0.0.1:0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CC_ERR_DATA_DIR_LOCKED');
    expect(r.stderr).toMatch(new RegExp(`in use by crashcart serve \\(pid ${a.child.pid},`));
    expect(r.stderr).toMatch(/fix: .*--data-dir/);
  });

  it('refuses a second store in the same process too', async () => {
    const d = await tmpDir('cc-lock-inproc-');
    const s = await openStore(d, 0, 'first');
    try {
      const e = await openStore(d, 0, 'second').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CcError);
      expect((e as CcError).code).toBe('CC_ERR_DATA_DIR_LOCKED');
      expect((e as CcError).message).toContain(`first (pid ${process.pid}`);
    } finally {
      await s.close();
    }
    await (await openStore(d, 0, 'third')).close(); // released on close
  });
});

describe('CLI writes while an appliance runs', () => {
  it('image import goes through the admin API and the running appliance sees it at once', async () => {
    const r = cli([
      'image',
      'import',
      '--data-dir',
      a.dataDir,
      '--name',
      'deb',
      '--kernel',
      path.join(files, 'linux'),
      '--initrd',
      path.join(files, 'initrd.gz'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`importing through ${a.adminUrl}`);
    expect(r.stdout).toMatch(/image deb: initrd\.gz 9000 B sha256 [0-9a-f]{16}, linux 200000 B/);
    const imgs = (await (await api('/api/v1/images')).json()) as { images: { name: string; files: unknown[] }[] };
    expect(imgs.images).toMatchObject([{ name: 'deb', files: [{ name: 'initrd.gz' }, { name: 'linux' }] }]);
    const ev = (await (await api('/api/v1/events?type=image.imported')).json()) as { events: unknown[] };
    expect(ev.events).toHaveLength(2);
    const part = await fetch(`${a.nodeUrl}/images/deb/linux`, { headers: { range: 'bytes=0-3' } });
    expect(Buffer.from(await part.arrayBuffer())).toEqual(Buffer.alloc(4, 1));
  });

  it('microkernel import goes through the admin API and the next boot gets it', async () => {
    const before = await (await fetch(`${a.nodeUrl}/boot?mac=52:54:00:aa:00:01`)).text();
    expect(before).not.toContain('lock-test-1');
    const r = cli(['microkernel', 'import', files, '--data-dir', a.dataDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`installing through ${a.adminUrl}`);
    expect(r.stdout).toContain('microkernel lock-test-1 installed');
    const boot = await (await fetch(`${a.nodeUrl}/boot?mac=52:54:00:aa:00:02`)).text();
    expect(boot).toContain('discovery microkernel lock-test-1');
    const k = await fetch(`${a.nodeUrl}/mk/vmlinuz`);
    expect(Buffer.from(await k.arrayBuffer())).toEqual(Buffer.alloc(4096, 7));
    await expect(fs.access(path.join(a.dataDir, 'microkernel.importing'))).rejects.toThrow();
  });

  it('token --rotate signs out everywhere through the appliance', async () => {
    const old = await a.token();
    const r = cli(['token', '--rotate', '--data-dir', a.dataDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('signed out everywhere');
    expect(r.stdout.trim()).toBe(await a.token());
    expect(r.stdout.trim()).not.toBe(old);
    expect((await fetch(`${a.adminUrl}/api/v1/status`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
    expect((await api('/api/v1/status')).status).toBe(200);
  });
});

describe('after SIGKILL', () => {
  it('nothing blocks the data dir: the CLI writes into it itself, and login says no appliance runs', async () => {
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const holder = JSON.parse(await fs.readFile(path.join(a.dataDir, 'crashcart.lock'), 'utf8')) as { pid: number };
    expect(holder.pid).toBe(a.child.pid); // the dead holder's note is still there, and means nothing
    const r = cli([
      'image',
      'import',
      '--data-dir',
      a.dataDir,
      '--name',
      'after',
      '--kernel',
      path.join(files, 'linux'),
      '--initrd',
      path.join(files, 'initrd.gz'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('through');
    expect(r.stdout).toContain('image after:');
    const l = cli(['login', '--data-dir', a.dataDir]);
    expect(l.status).toBe(1);
    expect(l.stderr).toContain('CC_ERR_NOT_RUNNING');
    // And the appliance starts again on it, with both images.
    a = await spawnAppliance(['--microkernel', path.join(a.dataDir, 'microkernel', 'amd64')], { dataDir: a.dataDir });
    const imgs = (await (await api('/api/v1/images')).json()) as { images: { name: string }[] };
    expect(imgs.images.map((i) => i.name)).toEqual(['after', 'deb']);
  });
});
