/**
 * A whole-disk image arriving over the admin API (`PUT /api/v1/images/:name/disk`): the body streams
 * into the disk importer; each later phase (convert, inspect, compress, store) is logged once, and the
 * recorded image is announced as `image.imported`.
 */
import type { Readable } from 'node:stream';
import type { DiskImportPhase, FirstBoot, Image } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { importDiskImage } from './disk-import.ts';
import { imageView } from './image-actions.ts';

/** Import one uploaded disk image and say so. */
export async function importDiskUpload(
  ctx: CoreContext,
  name: string,
  source: Readable,
  sourceSize: number,
  firstBoot: FirstBoot | undefined,
): Promise<Image> {
  let lastPhase: DiskImportPhase | null = null;
  const doc = await importDiskImage({
    col: ctx.store.images,
    dataDir: ctx.config.dataDir,
    name,
    source,
    sourceSize,
    firstBoot,
    now: () => ctx.now(),
    onProgress: (p) => {
      if (p.phase === lastPhase) return;
      lastPhase = p.phase;
      ctx.log.info(`disk image ${name}: ${p.phase}`);
    },
  });
  const d = doc.disk!;
  ctx.events.emit('image.imported', {
    message: `Disk image ${name} imported: ${d.os ?? 'unknown OS'}, ${Math.round(d.size / 1048576)} MiB raw, boots ${d.firmware}, first boot ${d.first_boot}`,
    data: { image: name, kind: 'disk', sha256: d.sha256, stored_sha256: d.stored_sha256, firmware: d.firmware, first_boot: d.first_boot },
  });
  return imageView(doc);
}
