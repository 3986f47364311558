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
