/**
 * Disk images (image kind `disk`): what Crashcart records about a whole-disk image at import, shared
 * by the server (import, API), the agent (deploy: what to fetch, how to check it, where the root
 * partition is) and the renderer (image list). Sizes and offsets are bytes.
 */
import { Type, type Static } from 'typebox';

/** Firmware an image boots with (docs/images.md "How boot support is detected"). */
export const BootFirmwareSchema = Type.Union([Type.Literal('bios'), Type.Literal('uefi'), Type.Literal('both'), Type.Literal('none')]);

/** First-boot configuration an image understands: cloud-init's NoCloud datasource, or nothing. */
export const FirstBootSchema = Type.Union([Type.Literal('nocloud'), Type.Literal('none')]);
/** First-boot mechanism. */
export type FirstBoot = Static<typeof FirstBootSchema>;

/** Where the first-boot value came from. */
export const FirstBootSourceSchema = Type.Union([
  Type.Literal('detected'),
  Type.Literal('builder'),
  Type.Literal('operator'),
  Type.Literal('unreadable'),
]);

/** What a partition is for (server/images/codec/partition-types.ts decides it). */
export const PARTITION_ROLES = [
  'esp',
  'bios-boot',
  'linux-root',
  'linux',
  'xbootldr',
  'swap',
  'lvm',
  'raid',
  'windows',
  'extended',
  'other',
] as const;
/** Filesystems the inspector recognises (`ext4` covers ext2/3/4). */
export const FILESYSTEMS = ['ext4', 'xfs', 'btrfs', 'vfat', 'swap', 'lvm2', 'luks', 'iso9660', 'unknown'] as const;

/** One partition of the image. */
export const DiskPartitionSchema = Type.Object({
  number: Type.Integer({ minimum: 1 }),
  start: Type.Number(),
  size: Type.Number(),
  /** GPT type GUID, or the MBR type byte as `0xNN`. */
  type: Type.String(),
  type_name: Type.String(),
  role: Type.Enum(PARTITION_ROLES),
  /** GPT partition name ('' on MBR). */
  name: Type.String(),
  /** GPT unique partition GUID (null on MBR). */
  guid: Type.Union([Type.String(), Type.Null()]),
  /** MBR active flag, or GPT legacy-BIOS-bootable attribute. */
  bootable: Type.Boolean(),
  filesystem: Type.Enum(FILESYSTEMS),
});
/** A partition. */
export type DiskPartition = Static<typeof DiskPartitionSchema>;

/** What inspecting the raw image found. */
export const DiskFactsSchema = Type.Object({
  partition_table: Type.Object({
    type: Type.Union([Type.Literal('gpt'), Type.Literal('mbr')]),
    sector_size: Type.Integer(),
    disk_guid: Type.Union([Type.String(), Type.Null()]),
    partitions: Type.Array(DiskPartitionSchema),
  }),
  firmware: BootFirmwareSchema,
  boot: Type.Object({
    bios: Type.Object({ ok: Type.Boolean(), reason: Type.String() }),
    uefi: Type.Object({ ok: Type.Boolean(), reason: Type.String() }),
  }),
  /** Partition holding /etc/os-release (null when no readable root was found). */
  root_partition: Type.Union([Type.Integer(), Type.Null()]),
  /** PRETTY_NAME from os-release. */
  os: Type.Union([Type.String(), Type.Null()]),
  first_boot: FirstBootSchema,
  first_boot_source: FirstBootSourceSchema,
  first_boot_reason: Type.String(),
  warnings: Type.Array(Type.String()),
});
/** Disk facts. */
export type DiskFacts = Static<typeof DiskFactsSchema>;

/** The `disk` record of an image of kind `disk`. */
export const DiskImageInfoSchema = Type.Intersect([
  DiskFactsSchema,
  Type.Object({
    /** The stored file (served by the node plane at /images/NAME/FILE, with Range). */
    file: Type.String(),
    /** Compression of the stored file: always zstd (fast to decompress on slow CPUs). */
    compression: Type.Literal('zstd'),
    stored_size: Type.Number(),
    stored_sha256: Type.String(),
    /** The uncompressed raw image: what ends up on the target disk, byte for byte. */
    size: Type.Number(),
    sha256: Type.String(),
    /** What was imported. */
    source: Type.Object({
      format: Type.Union([Type.Literal('raw'), Type.Literal('qcow2')]),
      compression: Type.Union([Type.Literal('zstd'), Type.Literal('xz'), Type.Literal('gzip'), Type.Literal('none')]),
      size: Type.Number(),
      sha256: Type.String(),
    }),
    /** Set for images made by `crashcart image build`. */
    builder: Type.Optional(
      Type.Object({ recipe: Type.String(), recipe_version: Type.Integer(), source_date_epoch: Type.Integer(), packages: Type.Integer() }),
    ),
  }),
]);
/** Disk image record. */
export type DiskImageInfo = Static<typeof DiskImageInfoSchema>;

/** Query of `PUT /api/v1/images/:name/disk` (the body is the image, application/octet-stream). */
export const DiskImportQuerySchema = Type.Object(
  {
    /** Say what first-boot configuration the image understands when Crashcart cannot look inside (XFS, LVM). */
    first_boot: Type.Optional(FirstBootSchema),
  },
  { additionalProperties: false },
);
/** Disk import query. */
export type DiskImportQuery = Static<typeof DiskImportQuerySchema>;

/** Phases of a disk import, reported in `image.progress` events. */
export const DISK_IMPORT_PHASES = ['receive', 'convert', 'inspect', 'compress', 'store'] as const;
/** One phase. */
export type DiskImportPhase = (typeof DISK_IMPORT_PHASES)[number];
