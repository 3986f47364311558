/**
 * A package repository unpacked from an installer ISO (`crashcart image import --iso`), served from the node
 * plane at `/images/NAME/repo/`: what the server records, the API lists and the renderer shows.
 */
import { Type, type Static } from 'typebox';

/** The repository an image carries (docs/images.md "Installer ISOs as repositories"). */
export const IsoRepoSchema = Type.Object({
  /** `deb`: Debian-style `dists/` + `pool/`; `rpm`: `repodata/repomd.xml` (root or one level down). */
  kind: Type.Union([Type.Literal('deb'), Type.Literal('rpm')]),
  /** Folder under the image's URL: `/images/NAME/<path>/`. */
  path: Type.Literal('repo'),
  /** The ISO's volume label. */
  volume_id: Type.String(),
  /** How names were read: Rock Ridge, Joliet, or plain ISO 9660 identifiers. */
  names: Type.Union([Type.Literal('rock-ridge'), Type.Literal('joliet'), Type.Literal('iso9660')]),
  files: Type.Integer({ minimum: 0 }),
  symlinks: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  /** deb: the suites under `dists/` that have a Release file (folders, not symlinks). */
  suites: Type.Array(Type.String()),
  /** rpm: folders holding `repodata/repomd.xml` (`''` = the repository root), e.g. `BaseOS`, `AppStream`. */
  repos: Type.Array(Type.String()),
  /** rpm: a `.treeinfo` at the root (an Anaconda installation tree; copied to `treeinfo`, which the node plane serves). */
  install_tree: Type.Boolean(),
  /** The ISO as it was received. */
  source: Type.Object({ size: Type.Integer({ minimum: 0 }), sha256: Type.String() }),
  imported_at: Type.String(),
});
/** An image's repository. */
export type IsoRepo = Static<typeof IsoRepoSchema>;
