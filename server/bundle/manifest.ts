/**
 * A bundle's manifest (`manifest.json`, always the first member) and the only paths a bundle may
 * hold. A path is accepted by a whitelist of shapes, never by cleaning it up: no `..`, no absolute
 * path, no name outside the folders below, so a hostile bundle cannot aim a write anywhere else.
 * Pure: validation only.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { MICROKERNEL_ARCHES } from '../prepare/layout.ts';
import { MICROKERNEL_FILES } from '../images/microkernel-install.ts';
import { pinnedLoaderFile } from '../prepare/loaders/upload.ts';
import { IMAGE_FILE } from '../images/image-store.ts';

/** The manifest's own name and size cap (a few thousand entries fit in far less). */
export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** The bundle format this version writes and reads. */
export const BUNDLE_FORMAT = 'crashcart-bundle';
export const BUNDLE_VERSION = 1;
/** Most members a bundle may list (a rack's images, loaders, microkernels and store files are far fewer). */
export const MAX_FILES = 10_000;

/** Store collections a bundle carries, as `store/<name>.json`. */
export const STORE_FILES = ['tags', 'tasks', 'policies', 'settings', 'images', 'nodes', 'facts', 'reservations'] as const;
/** One of them. */
export type StoreFile = (typeof STORE_FILES)[number];
/** Collections that are node data: only with `--with-nodes`. */
export const NODE_STORE_FILES: readonly StoreFile[] = ['nodes', 'facts', 'reservations'];
/** The secrets key file (BMC passwords are sealed with it): only with `--with-secrets`. */
export const SECRETS_PATH = 'secrets/secrets.key';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** `manifest.json`. */
export const ManifestSchema = Type.Object(
  {
    format: Type.Literal(BUNDLE_FORMAT),
    version: Type.Literal(BUNDLE_VERSION),
    created_at: Type.String({ maxLength: 64 }),
    /** The Crashcart version that wrote it. */
    crashcart: Type.String({ maxLength: 64 }),
    contents: Type.Object({ nodes: Type.Boolean(), secrets: Type.Boolean() }, { additionalProperties: false }),
    files: Type.Array(
      Type.Object(
        {
          path: Type.String({ minLength: 1, maxLength: 255 }),
          bytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          sha256: Sha256,
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_FILES },
    ),
  },
  { additionalProperties: false },
);
/** A manifest. */
export type Manifest = Static<typeof ManifestSchema>;
const checkManifest = Compile(ManifestSchema);

/** What a member path is, once accepted. */
export type BundlePath =
  | { kind: 'loader'; name: string }
  | { kind: 'microkernel'; arch: (typeof MICROKERNEL_ARCHES)[number]; file: (typeof MICROKERNEL_FILES)[number] }
  | { kind: 'image'; image: string; file: string }
  | { kind: 'store'; file: StoreFile }
  | { kind: 'secrets' };

/** Image names as the store takes them. */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Classify a member path, or say why it is refused. Pure. */
export function classifyPath(p: string): BundlePath | { refused: string } {
  const parts = p.split('/');
  if (p.startsWith('/') || parts.some((x) => x === '' || x === '.' || x === '..'))
    return { refused: 'absolute, empty or dot path segments' };
  if (/[^\x21-\x7e]/.test(p)) return { refused: 'characters outside printable ASCII' };
  const [top, a, b, ...more] = parts;
  if (top === 'loaders' && a && b === undefined)
    return pinnedLoaderFile(a) ? { kind: 'loader', name: a } : { refused: `"${a}" is not a loader of this version's registry` };
  if (top === 'microkernel' && a && b && more.length === 0) {
    const arch = MICROKERNEL_ARCHES.find((x) => x === a);
    const file = MICROKERNEL_FILES.find((x) => x === b);
    return arch && file
      ? { kind: 'microkernel', arch, file }
      : { refused: `not microkernel/<${MICROKERNEL_ARCHES.join('|')}>/<${MICROKERNEL_FILES.join('|')}>` };
  }
  if (top === 'images' && a && b && more.length === 0)
    return IMAGE_NAME.test(a) && IMAGE_FILE.test(b) ? { kind: 'image', image: a, file: b } : { refused: 'not images/<name>/<file>' };
  if (top === 'store' && a && b === undefined) {
    const file = STORE_FILES.find((x) => `${x}.json` === a);
    return file ? { kind: 'store', file } : { refused: `store/${a} is not a store file` };
  }
  if (p === SECRETS_PATH) return { kind: 'secrets' };
  return { refused: 'outside loaders/, microkernel/, images/, store/ and secrets/secrets.key' };
}

/** Validate manifest text: schema, no duplicate paths, every path accepted, node and secret files only as declared. */
export function parseManifest(text: string): Manifest | { refused: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { refused: `manifest.json is not JSON: ${(e as Error).message}` };
  }
  if (!checkManifest.Check(v)) {
    const first = [...checkManifest.Errors(v)][0];
    return { refused: `manifest.json: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}` };
  }
  const m = v as Manifest;
  const seen = new Set<string>();
  for (const f of m.files) {
    if (f.path === MANIFEST_NAME) return { refused: 'manifest.json lists itself' };
    if (seen.has(f.path)) return { refused: `${f.path} is listed twice` };
    seen.add(f.path);
    const c = classifyPath(f.path);
    if ('refused' in c) return { refused: `${f.path}: ${c.refused}` };
    if (c.kind === 'store' && NODE_STORE_FILES.includes(c.file) && !m.contents.nodes)
      return { refused: `${f.path} is node data, but the manifest says the bundle has no nodes` };
    if (c.kind === 'secrets' && !m.contents.secrets) return { refused: `${f.path} is a secret, but the manifest says the bundle has none` };
  }
  return m;
}
