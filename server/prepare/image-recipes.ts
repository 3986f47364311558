/**
 * Disk image recipes `prepare --image NAME` can make (image-entry.ts runs them). `debian12` is issue 13's
 * builder (`crashcart image build debian12`: Debian packages via mmdebstrap, cached by recipe key in
 * `<cache>/images/debian12`), then imported into the target like `image build` does: straight into the
 * data dir, or through the appliance's `PUT /api/v1/images/:name/disk`.
 */
import path from 'node:path';
import { BUILD_DEFAULTS, buildDebian12 } from '../images/build/image-builder.ts';
import type { PrepareEnv } from './artifact.ts';
import type { ImageRecipe } from './image-entry.ts';

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Where a recipe's build output is cached: `<cache>/images/<name>` (`image build --output` takes the same folder). */
export function recipeOutDir(env: Pick<PrepareEnv, 'cacheDir'>, name: string): string {
  return path.join(env.cacheDir, 'images', name);
}

/** Debian 12 (BIOS + UEFI, cloud-init NoCloud), the recipe's defaults. */
export const debian12Recipe: ImageRecipe = {
  name: 'debian12',
  // mmdebstrap runs as root, or in an unprivileged user namespace (its `unshare` mode) where the kernel allows one.
  needsRoot: true,
  async make(env, id) {
    const r = await buildDebian12({
      outDir: recipeOutDir(env, 'debian12'),
      debCacheDir: path.join(env.cacheDir, 'debs'),
      mirror: env.mirror ?? BUILD_DEFAULTS.mirror,
      securityMirror: env.securityMirror ?? BUILD_DEFAULTS.securityMirror,
      epoch: BUILD_DEFAULTS.epoch,
      extraPackages: [],
      components: BUILD_DEFAULTS.components,
      allModules: false,
      rebuild: env.rebuild,
      zstdLevel: BUILD_DEFAULTS.zstdLevel,
      onPhase: (i, n, what) => env.progress(id, { state: 'building', detail: `${i}/${n} ${what}` }),
      onProgress: (text, done, total) => env.progress(id, { state: 'building', detail: text, done, total }),
    });
    const m = r.manifest;
    const builder = {
      recipe: m.recipe,
      recipe_version: m.recipe_version,
      source_date_epoch: m.source_date_epoch,
      packages: m.packages.length,
    };
    await env.target.installDiskImage('debian12', r.file, builder, (file, done, total) =>
      env.progress(id, { state: 'installing', detail: file, done, total }),
    );
    const how = r.reused ? `cached build (key ${m.key})` : `built in ${m.seconds} s`;
    return { detail: `${how}, raw ${MiB(m.raw.size)}, zstd ${MiB(m.zst.size)}`, bytes: m.zst.size };
  },
};
