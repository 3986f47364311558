/**
 * `crashcart prepare --image debian12`: the recipe registered in server/prepare/image-recipes.ts finds the
 * build in its cache (`<cache>/images/debian12`, the folder `image build --output` writes, reused when its
 * recipe key matches) and imports it, into the data dir or through the appliance holding it. The cached
 * build here is a small GPT disk made by sgdisk/mkfs (test/images/harness/sample-disk.ts) with the manifest
 * the builder writes: the build itself (mmdebstrap, minutes) is test/images/debian12-image.test.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { killAfter } from '../support/kill-timer.ts';
import { BUILD_DEFAULTS, buildKey, type BuildManifest } from '../../server/images/build/image-builder.ts';
import { RECIPE_VERSION } from '../../server/images/build/recipe-debian12.ts';
import { IMAGE_RECIPES } from '../../server/prepare/image-entry.ts';
import { makeSampleDisk } from '../images/harness/sample-disk.ts';
import { run } from '../images/harness/tools.ts';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';

const SLOW = 300_000;
/** One run's most, below SLOW: a hung run is killed and fails its test on the exit status (null). */
const RUN_MAX = 240_000;
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const cli = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    killAfter(c, RUN_MAX);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('close', (status) => resolve({ status, stdout, stderr }));
  });

/** A prepare cache with the checkout's loader cache and a cached debian12 build (a sample disk). */
async function cacheWithBuild(): Promise<{ cache: string; manifest: BuildManifest }> {
  const cache = await tmpDir('cc-prep-imgcache-');
  const loaders = path.join(REPO_ROOT, 'build', 'out', 'cache', 'loaders');
  if (!fs.existsSync(loaders)) throw new Error(`${loaders} is missing\n  fix: bash scripts/ensure-test-deps.sh`);
  fs.cpSync(loaders, path.join(cache, 'loaders'), { recursive: true });
  const out = path.join(cache, 'images', 'debian12');
  fs.mkdirSync(out, { recursive: true });
  const raw = path.join(cache, 'sample.raw');
  makeSampleDisk(raw, path.join(cache, 'mk'), { table: 'gpt', bootCode: true, esp: true, root: 'ext4', cloudInit: true });
  const file = 'debian12.raw.zst';
  run('zstd', ['-q', '-3', '-f', raw, '-o', path.join(out, file)]);
  const key = buildKey({ epoch: BUILD_DEFAULTS.epoch, extraPackages: [], components: BUILD_DEFAULTS.components, allModules: false });
  const manifest: BuildManifest = {
    recipe: 'debian12',
    recipe_version: RECIPE_VERSION,
    key,
    source_date_epoch: BUILD_DEFAULTS.epoch,
    file,
    raw: { size: fs.statSync(raw).size, sha256: sha(raw) },
    zst: { size: fs.statSync(path.join(out, file)).size, sha256: sha(path.join(out, file)), level: 3 },
    packages: ['linux-image-amd64', 'cloud-init'],
    seconds: 1,
  };
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest));
  return { cache, manifest };
}

describe('prepare --image debian12', { timeout: SLOW }, () => {
  let cache = '';
  let manifest: BuildManifest;
  let a: ProcessAppliance | null = null;
  beforeAll(async () => {
    ({ cache, manifest } = await cacheWithBuild());
  }, SLOW);
  afterAll(async () => {
    await a?.stop();
  });

  it('is a registered recipe, made with root or a user namespace (mmdebstrap)', () => {
    expect(IMAGE_RECIPES.get('debian12')?.needsRoot).toBe(true);
  });

  it('imports the cached build into the data dir with its builder record; a rerun finds it present', async () => {
    const d = await tmpDir('cc-prep-img-');
    const r = await cli(['prepare', '--data-dir', d, '--cache', cache, '--image', 'debian12']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`image debian12 +installed .*cached build \\(key ${manifest.key}\\)`));
    expect(r.stdout).toMatch(/Needs root \(or a user namespace\): image debian12/);
    // The stored file is the build's zstd stream, byte for byte (a zstd source is kept as it came).
    expect(sha(path.join(d, 'images', 'debian12', 'disk.raw.zst'))).toBe(manifest.zst.sha256);
    const db = fs.readFileSync(path.join(d, 'db', 'images.db'), 'utf8');
    expect(db).toContain('"recipe":"debian12"');
    expect(db).toContain(manifest.raw.sha256);
    const again = await cli(['prepare', '--data-dir', d, '--cache', cache, '--image', 'debian12']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/image debian12 +present/);
  });

  it('goes through the admin API when an appliance holds the data dir', async () => {
    a = await spawnAppliance([]);
    const r = await cli(['prepare', '--data-dir', a.dataDir, '--cache', cache, '--image', 'debian12']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`preparing through ${a.adminUrl}`);
    expect(r.stdout).toMatch(/image debian12 +installed/);
    const res = await fetch(`${a.adminUrl}/api/v1/images`, { headers: { authorization: `Bearer ${await a.token()}` } });
    const images = ((await res.json()) as { images: { name: string; kind: string; files: { sha256: string }[] }[] }).images;
    const img = images.find((i) => i.name === 'debian12');
    expect(img?.kind).toBe('disk');
    expect(img?.files[0]?.sha256).toBe(manifest.zst.sha256);
  });
});
