/**
 * The part of electron-builder's configuration Crashcart uses, as a schema written here from electron-builder's
 * documented options (electron.build: Configuration, FilesBuildOptions/FileSet, LinuxConfiguration,
 * DebOptions). electron-builder itself is not a dependency (its Electron download needs the network), so this
 * is what keeps electron-builder.yml honest: an unknown or misspelt key is refused here instead of being
 * ignored at release time. Pure: no file access.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/** A FileSet: `from` (project or app dir relative), `to` (asar root, or resources for extraResources), `filter` globs. */
const FileSet = Type.Object(
  {
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    filter: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  },
  { additionalProperties: false },
);
/** `files`, `extraResources`, `extraFiles`: a glob, a FileSet, or a list of either. */
const Files = Type.Union([Type.String(), FileSet, Type.Array(Type.Union([Type.String(), FileSet]))]);
/** Linux targets electron-builder documents (TargetConfiguration by name). */
const LinuxTarget = Type.Union(
  ['AppImage', 'deb', 'rpm', 'snap', 'flatpak', 'pacman', 'tar.gz', 'tar.xz', 'zip', 'dir'].map((t) => Type.Literal(t)),
);
const Target = Type.Union([
  LinuxTarget,
  Type.Object({ target: LinuxTarget, arch: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
]);

/** LinuxConfiguration (the keys used or plausible here). */
const Linux = Type.Object(
  {
    target: Type.Union([Target, Type.Array(Target)]),
    category: Type.Optional(Type.String()),
    icon: Type.Optional(Type.String()),
    synopsis: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    executableName: Type.Optional(Type.String()),
    maintainer: Type.Optional(Type.String()),
    vendor: Type.Optional(Type.String()),
    artifactName: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
/** DebOptions (LinuxTargetSpecificOptions): package relations and maintainer scripts. */
const Deb = Type.Object(
  {
    depends: Type.Optional(Type.Array(Type.String())),
    recommends: Type.Optional(Type.Array(Type.String())),
    afterInstall: Type.Optional(Type.String()),
    afterRemove: Type.Optional(Type.String()),
    packageCategory: Type.Optional(Type.String()),
    priority: Type.Optional(Type.String()),
    compression: Type.Optional(Type.Union(['gz', 'bzip2', 'xz', 'lzo'].map((c) => Type.Literal(c)))),
  },
  { additionalProperties: false },
);

/** The configuration file (electron-builder.yml). */
export const BuilderConfigSchema = Type.Object(
  {
    appId: Type.String({ pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$' }),
    productName: Type.String({ minLength: 1 }),
    copyright: Type.Optional(Type.String()),
    directories: Type.Optional(
      Type.Object(
        { output: Type.Optional(Type.String()), buildResources: Type.Optional(Type.String()), app: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
    extraMetadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    files: Files,
    extraResources: Type.Optional(Files),
    extraFiles: Type.Optional(Files),
    asar: Type.Optional(Type.Boolean()),
    asarUnpack: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    linux: Linux,
    deb: Type.Optional(Deb),
    appImage: Type.Optional(
      Type.Object({ artifactName: Type.Optional(Type.String()), license: Type.Optional(Type.String()) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
/** A configuration that passed the schema. */
export type BuilderConfig = Static<typeof BuilderConfigSchema>;
/** One FileSet entry. */
export type BuilderFileSet = Static<typeof FileSet>;

const check = Compile(BuilderConfigSchema);

/** The configuration, or the list of problems (path: message). */
export function validateBuilderConfig(v: unknown): { ok: true; config: BuilderConfig } | { ok: false; problems: string[] } {
  if (check.Check(v)) return { ok: true, config: v };
  return { ok: false, problems: [...check.Errors(v)].map((e) => `${e.instancePath || '/'}: ${e.message}`) };
}
