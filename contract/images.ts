/** Image and microkernel upload shapes of the admin API, shared by server, CLI and renderer. */
import { Type, type Static } from 'typebox';
import { ImageSchema, NameSchema } from './admin.ts';

/** GET /api/v1/images */
export const ImageListSchema = Type.Object({ images: Type.Array(ImageSchema) });
/** The image list. */
export type ImageList = Static<typeof ImageListSchema>;

/** A file name inside an image (no path, no leading dot). */
export const ImageFileNameSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });

/** Path of PUT /api/v1/images/:name/files/:file. */
export const ImageFileParamsSchema = Type.Object({ name: NameSchema, file: ImageFileNameSchema });

/** One stored file with the sha256 of the bytes the appliance received. */
export const FileEntrySchema = Type.Object({ name: Type.String(), size: Type.Integer(), sha256: Type.String() });
/** A stored file. */
export type FileEntry = Static<typeof FileEntrySchema>;

/**
 * The files a microkernel is made of. `vmlinuz-zstd` (amd64, optional): the same kernel as `vmlinuz` behind a
 * zstd boot stub, unsigned; iPXE boots it when it is there, shim/GRUB always boot Debian's signed `vmlinuz`.
 */
export const MICROKERNEL_FILES = ['vmlinuz', 'vmlinuz-zstd', 'initrd.img', 'manifest.json'] as const;
/** One microkernel file. */
export type MicrokernelFile = (typeof MICROKERNEL_FILES)[number];
/** Schema of a microkernel file name. */
export const MicrokernelFileSchema = Type.Enum(MICROKERNEL_FILES);

/** Architectures a microkernel is made for (Debian's names; before issue 12 only amd64 existed, the default). */
export const MicrokernelArchSchema = Type.Union([Type.Literal('amd64'), Type.Literal('arm64')]);
/** Query of PUT /api/v1/microkernel/staging/:file: which architecture's staging folder. */
export const MicrokernelStagingQuerySchema = Type.Object({ arch: Type.Optional(MicrokernelArchSchema) }, { additionalProperties: false });

/** POST /api/v1/microkernel/install: which staged files make the new microkernel, of which architecture. */
export const MicrokernelInstallSchema = Type.Object(
  {
    files: Type.Array(MicrokernelFileSchema, { minItems: 2, maxItems: MICROKERNEL_FILES.length, uniqueItems: true }),
    arch: Type.Optional(MicrokernelArchSchema),
  },
  { additionalProperties: false },
);
/** Microkernel install request. */
export type MicrokernelInstall = Static<typeof MicrokernelInstallSchema>;

/** Answer of the microkernel install: where it lives now and its version. */
export const MicrokernelInstalledSchema = Type.Object({ dir: Type.String(), version: Type.String() });
/** Microkernel install answer. */
export type MicrokernelInstalled = Static<typeof MicrokernelInstalledSchema>;
