/**
 * What a data dir holds of the artifacts `crashcart prepare` makes (GET /api/v1/prepared): what a
 * remote `prepare` or `bundle import` compares against before sending anything (issue 12).
 */
import { Type, type Static } from 'typebox';

/** One loader artifact in `<data-dir>/loaders`. */
export const PreparedLoaderSchema = Type.Object({
  name: Type.String(),
  arch: Type.String(),
  ready: Type.Boolean(),
  files: Type.Array(
    Type.Object({
      name: Type.String(),
      status: Type.Union([Type.Literal('verified'), Type.Literal('custom'), Type.Literal('mismatch'), Type.Literal('missing')]),
      bytes: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});

/** One architecture's microkernel in `<data-dir>/microkernel/<arch>`. */
export const PreparedMicrokernelSchema = Type.Object({
  arch: Type.String(),
  status: Type.Union([Type.Literal('verified'), Type.Literal('unverified'), Type.Literal('mismatch'), Type.Literal('missing')]),
  version: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
  files: Type.Array(Type.Object({ name: Type.String(), bytes: Type.Integer(), sha256: Type.Union([Type.String(), Type.Null()]) })),
});

/** One image folder. */
export const PreparedImageSchema = Type.Object({
  name: Type.String(),
  bytes: Type.Integer(),
  files: Type.Array(Type.Object({ name: Type.String(), bytes: Type.Integer() })),
});

/** GET /api/v1/prepared */
export const PreparedSchema = Type.Object({
  loaders: Type.Array(PreparedLoaderSchema),
  microkernels: Type.Array(PreparedMicrokernelSchema),
  images: Type.Array(PreparedImageSchema),
});
/** What a data dir holds. */
export type Prepared = Static<typeof PreparedSchema>;

/** Path of PUT /api/v1/loaders/:file: a file name of the loader registry. */
export const LoaderFileParamsSchema = Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) });

/** Answer of PUT /api/v1/loaders/:file: the pinned file now in the data dir. */
export const LoaderInstalledSchema = Type.Object({ name: Type.String(), bytes: Type.Integer(), sha256: Type.String() });

/** Query of GET /api/v1/bundle (secrets never leave through the API). */
export const BundleExportQuerySchema = Type.Object({ with_nodes: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** Answer of PUT /api/v1/bundle: what was imported. */
export const BundleImportedSchema = Type.Object({
  files: Type.Integer(),
  bytes: Type.Integer(),
  loaders: Type.Array(Type.String()),
  microkernels: Type.Array(Type.String()),
  images: Type.Array(Type.String()),
  store: Type.Record(Type.String(), Type.Integer()),
  created_at: Type.String(),
});
/** A bundle import's answer. */
export type BundleImported = Static<typeof BundleImportedSchema>;
