/**
 * Disk image entries (`prepare --image NAME`): present when the data dir holds the image; otherwise
 * made by the recipe registered under that name. This is the hook the disk-image work fills: a
 * recipe builds the image (e.g. `debian12` with mmdebstrap) and imports it into the target; an image
 * no recipe makes is reported with how to import one by hand.
 */
import { CcError, ccError } from '../errors/cc-error.ts';
import type { PrepareArtifact, PrepareEnv, PrepareOutcome } from './artifact.ts';
import { debian12Recipe } from './image-recipes.ts';

/** How an image is made. */
export interface ImageRecipe {
  /** Image name as `--image` takes it. */
  name: string;
  /** mmdebstrap runs as root or in a user namespace; say which, for the summary. */
  needsRoot: boolean;
  /** Build (cached in `env.cacheDir`) and import into `env.target`; report on line `id`. */
  make(env: PrepareEnv, id: string): Promise<{ detail: string; bytes: number }>;
}

/** Registered recipes, by name (image-recipes.ts). */
export const IMAGE_RECIPES: ReadonlyMap<string, ImageRecipe> = new Map([[debian12Recipe.name, debian12Recipe]]);

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** The registry entry for image `name`. */
export function imageArtifact(name: string, recipes: ReadonlyMap<string, ImageRecipe> = IMAGE_RECIPES): PrepareArtifact {
  const id = `image:${name}`;
  const recipe = recipes.get(name);
  return {
    id,
    label: `image ${name}`,
    kind: 'image',
    needsRoot: recipe?.needsRoot ?? false,
    async run(env: PrepareEnv): Promise<PrepareOutcome> {
      const have = env.prepared.images.find((i) => i.name === name);
      if (have && !env.rebuild) {
        const detail = `${have.files.map((f) => f.name).join(', ')} (${MiB(have.bytes)})`;
        env.progress(id, { state: 'present', detail });
        return { status: 'present', detail, bytes: have.bytes };
      }
      try {
        if (!recipe) {
          const known = [...recipes.keys()];
          throw ccError(
            'CC_ERR_PREPARE_UNAVAILABLE',
            `no recipe builds image "${name}" in this version${known.length ? ` (recipes: ${known.join(', ')})` : ''}; import it with \`crashcart image import --name ${name} ...\``,
          );
        }
        const r = await recipe.make(env, id);
        env.progress(id, { state: 'installed', detail: r.detail });
        return { status: 'installed', detail: r.detail, bytes: r.bytes };
      } catch (e) {
        const err =
          e instanceof CcError
            ? { code: e.code, message: e.message, fix: e.fix }
            : { code: 'CC_ERR_INTERNAL', message: String(e), fix: 'See the log.' };
        const status = err.code === 'CC_ERR_PREPARE_UNAVAILABLE' ? 'unavailable' : 'failed';
        env.progress(id, { state: status, detail: err.message });
        return { status, detail: err.message, error: err };
      }
    },
  };
}
