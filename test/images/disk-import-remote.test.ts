/**
 * `crashcart image import --disk` while an appliance holds the data dir: the real CLI sends the file to
 * the running appliance's admin API (PUT /api/v1/images/:name/disk) instead of opening the store, and the
 * appliance serves the image at once; what the API cannot take (stdin, --zstd-level) is refused with the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { makeSampleDisk } from './harness/sample-disk.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

let a: ProcessAppliance;
let work = '';
beforeAll(async () => {
  const dataDir = await tmpDir('cc-disk-remote-');
  work = await tmpDir('cc-disk-remote-files-');
  makeSampleDisk(path.join(work, 'sample.raw'), path.join(work, 'mk'), {
    table: 'gpt',
    bootCode: true,
    esp: true,
    root: 'ext4',
    cloudInit: true,
  });
  a = await spawnAppliance(['--microkernel', path.join(dataDir, 'microkernel')], { dataDir });
}, 120_000);
afterAll(async () => {
  await a.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('image import --disk with a running appliance', () => {
  it('goes through the admin API; the node plane serves the stored image at once', async () => {
    const r = cli(['image', 'import', '--disk', path.join(work, 'sample.raw'), '--name', 'golden', '--data-dir', a.dataDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`importing through ${a.adminUrl}`);
    expect(r.stdout).toMatch(/image golden \(disk\)/);
    const imgs = (await (
      await fetch(`${a.adminUrl}/api/v1/images`, { headers: { authorization: `Bearer ${await a.token()}` } })
    ).json()) as {
      images: { name: string; kind: string; disk: { stored_size: number; first_boot: string } }[];
    };
    const img = imgs.images.find((i) => i.name === 'golden')!;
    expect(img).toMatchObject({ kind: 'disk', disk: { first_boot: 'nocloud' } });
    const served = await fetch(`${a.nodeUrl}/images/golden/disk.raw.zst`, { headers: { range: 'bytes=0-3' } });
    expect(served.status).toBe(206);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  }, 120_000);

  it('refuses standard input and --zstd-level through the API with the fix', () => {
    const r = cli([
      'image',
      'import',
      '--disk',
      path.join(work, 'sample.raw'),
      '--name',
      'g2',
      '--zstd-level',
      '3',
      '--data-dir',
      a.dataDir,
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/leave out --zstd-level, or stop the appliance/);
  });
});
