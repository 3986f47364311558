import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { tmpDir } from '../support/appliance.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('crashcart CLI', () => {
  it('token prints the same 0600 token every time; image import records files with their sha256', async () => {
    const d = await tmpDir();
    const a = cli(['token', '--data-dir', d]);
    const b = cli(['token', '--data-dir', d]);
    expect(a.status).toBe(0);
    expect(a.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.stdout).toBe(a.stdout);
    expect(fs.statSync(path.join(d, 'admin-token')).mode & 0o777).toBe(0o600);
    fs.writeFileSync(path.join(d, 'linux'), 'kernel');
    fs.writeFileSync(path.join(d, 'initrd.gz'), 'initrd');
    const imp = cli([
      'image',
      'import',
      '--data-dir',
      d,
      '--name',
      'deb',
      '--kernel',
      path.join(d, 'linux'),
      '--initrd',
      path.join(d, 'initrd.gz'),
    ]);
    expect(imp.status).toBe(0);
    expect(imp.stdout).toContain('image deb: initrd.gz 6 B');
    expect(fs.readFileSync(path.join(d, 'images', 'deb', 'linux'), 'utf8')).toBe('kernel');
  });

  it('says what is wrong and the fix, with a non-zero exit', () => {
    const r = cli(['serve', '--dhcp', 'full']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CC_ERR_CONFIG_INVALID');
    expect(r.stderr).toContain('fix:');
    const h = execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), 'serve', '--help'], { encoding: 'utf8' });
    expect(h).toContain('--iface');
  });
});
