/**
 * `crashcart image build debian12`: build the Debian 12 disk image (Debian packages only, via
 * mmdebstrap), cache it, and import it into the data dir as image `debian12` (unless --no-import).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { openStore } from '../store/store.ts';
import { buildDebian12, BUILD_DEFAULTS, type BuildManifest } from '../images/build/image-builder.ts';
import { RECIPE_VERSION } from '../images/build/recipe-debian12.ts';
import { importDiskImage } from '../images/disk-import.ts';
import { describeDiskImage, uploadDiskImage } from './image-disk-import.ts';
import { routeWrites } from './data-dir-route.ts';
import { CliUsageError } from './cli-errors.ts';
import type { ImageDoc } from '../store/docs.ts';
import { formatBytes, ProgressDisplay } from './progress-display.ts';

/** Usage lines. */
export const IMAGE_BUILD_USAGE = `  image build debian12 [--name NAME] [--output DIR] [--cache DIR] [--mirror URL] [--security-mirror URL]
                     [--include PKG,...] [--components main,...] [--all-modules] [--epoch N] [--zstd-level N]
                     [--rebuild] [--no-import] [--data-dir DIR]
                             build a bootable Debian 12 disk image (BIOS+UEFI, cloud-init NoCloud) from Debian packages`;

const PKG = /^[a-z0-9][a-z0-9+.-]+$/;
const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/** Import the built image unless an identical one is there already. */
async function importBuilt(dataDir: string, name: string, file: string, m: BuildManifest, show: ProgressDisplay): Promise<void> {
  const route = await routeWrites(dataDir, () => openStore(dataDir, 0, 'crashcart image build'));
  if ('remote' in route) {
    // The running appliance imports it (its admin API); the builder record is not sent over the API.
    const { images } = await route.remote.call<{ images: ImageDoc[] }>('GET', '/api/v1/images');
    const old = images.find((i) => i.name === name);
    if (old?.kind === 'disk' && old.disk?.sha256 === m.raw.sha256) {
      process.stdout.write(`image ${name} is already this build (sha256 ${m.raw.sha256.slice(0, 16)}); nothing to import\n`);
      return;
    }
    if (old) throw ccError('CC_ERR_IMAGE_EXISTS', `image "${name}" holds another build or file; delete it or pass --name`);
    process.stdout.write(`an appliance runs on ${dataDir}: importing through ${route.remote.baseUrl}\n`);
    process.stdout.write(describeDiskImage(await uploadDiskImage(route.remote, name, file, 'nocloud', show)) + '\n');
    return;
  }
  const store = route.local;
  try {
    const old = await store.images.findOne({ _id: name });
    if (old?.kind === 'disk' && old.disk?.sha256 === m.raw.sha256) {
      process.stdout.write(`image ${name} is already this build (sha256 ${m.raw.sha256.slice(0, 16)}); nothing to import\n`);
      return;
    }
    if (old) throw ccError('CC_ERR_IMAGE_EXISTS', `image "${name}" holds another build or file; delete it or pass --name`);
    const doc = await importDiskImage({
      col: store.images,
      dataDir,
      name,
      source: fs.createReadStream(file, { highWaterMark: 1 << 20 }),
      sourceSize: m.zst.size,
      builder: { recipe: m.recipe, recipe_version: m.recipe_version, source_date_epoch: m.source_date_epoch, packages: m.packages.length },
      now: () => new Date(),
      onProgress: (p) => (p.phase === 'receive' ? show.bytes('importing', p.done, p.total) : show.status(p.phase)),
    });
    show.endLine();
    process.stdout.write(describeDiskImage(doc) + '\n');
  } finally {
    await store.close();
  }
}

/** Run the command (`argv` after `image build`). */
export async function imageBuildCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      output: { type: 'string' },
      cache: { type: 'string' },
      mirror: { type: 'string' },
      'security-mirror': { type: 'string' },
      include: { type: 'string' },
      components: { type: 'string' },
      'all-modules': { type: 'boolean' },
      epoch: { type: 'string' },
      'zstd-level': { type: 'string' },
      rebuild: { type: 'boolean' },
      'no-import': { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals[0] !== 'debian12')
    throw new CliUsageError('CC_ERR_CONFIG_INVALID', 'the recipes are: debian12', `usage:\n${IMAGE_BUILD_USAGE}`);
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir(process.env));
  const extra = list(values.include);
  const bad = extra.find((p) => !PKG.test(p));
  if (bad) throw ccError('CC_ERR_CONFIG_INVALID', `--include: "${bad}" is not a Debian package name`);
  const components = values.components ? list(values.components) : BUILD_DEFAULTS.components;
  if (components.some((c) => !/^[a-z-]+$/.test(c)))
    throw ccError('CC_ERR_CONFIG_INVALID', '--components: names like main,non-free-firmware');
  const epoch = values.epoch === undefined ? BUILD_DEFAULTS.epoch : Number(values.epoch);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw ccError('CC_ERR_CONFIG_INVALID', '--epoch is seconds since 1970');
  for (const u of [values.mirror, values['security-mirror']])
    if (u !== undefined && !/^(https?|file):\/\/\S+$/.test(u))
      throw ccError('CC_ERR_CONFIG_INVALID', `mirror "${u}" is not an http(s):// or file:// URL`);
  const cache = path.resolve(values.cache ?? path.join(dataDir, 'cache'));
  const show = new ProgressDisplay();
  const result = await buildDebian12({
    outDir: path.resolve(values.output ?? path.join(cache, 'images', 'debian12')),
    debCacheDir: path.join(cache, 'debs'),
    mirror: values.mirror ?? BUILD_DEFAULTS.mirror,
    securityMirror: values['security-mirror'] ?? BUILD_DEFAULTS.securityMirror,
    epoch,
    extraPackages: extra,
    components,
    allModules: values['all-modules'] ?? false,
    rebuild: values.rebuild ?? false,
    zstdLevel: values['zstd-level'] === undefined ? BUILD_DEFAULTS.zstdLevel : Number(values['zstd-level']),
    onPhase: (i, n, what) => show.phase(i, n, what),
    onProgress: (text, done, total, key) => (done === undefined ? show.status(text, key) : show.bytes(text, done, total ?? 0)),
  });
  show.endLine();
  const m = result.manifest;
  process.stdout.write(
    `${result.reused ? 'cached build (recipe debian12 v' + RECIPE_VERSION + ', key ' + m.key + ')' : `built in ${m.seconds} s`}: ${result.file}\n` +
      `  raw ${formatBytes(m.raw.size)} sha256 ${m.raw.sha256}\n  zstd -${m.zst.level} ${formatBytes(m.zst.size)} sha256 ${m.zst.sha256}\n  ${m.packages.length} packages\n`,
  );
  if (!values['no-import']) await importBuilt(dataDir, values.name ?? 'debian12', result.file, m, show);
}
