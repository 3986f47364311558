/**
 * Admin route for whole-disk images: `PUT /api/v1/images/:name/disk` streams the body (raw, raw +
 * zstd/xz/gzip, qcow2; application/octet-stream) into the disk importer, like the installer-file upload
 * route: the client shows the upload's progress, the server logs each later phase (convert, inspect,
 * compress, store), and the answer is the recorded image; success is an `image.imported` event.
 */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DiskImportQuerySchema, ImageSchema, NameSchema, type DiskImportPhase } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { importDiskImage, MAX_DISK_IMAGE_BYTES } from '../../images/disk-import.ts';
import { ccError } from '../../errors/cc-error.ts';

/** Register the disk image routes. */
export function diskImageRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  if (!app.hasContentTypeParser('application/octet-stream'))
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  r.put(
    '/api/v1/images/:name/disk',
    {
      bodyLimit: MAX_DISK_IMAGE_BYTES,
      schema: {
        tags: ['images'],
        description: 'Import a whole-disk image (raw, raw compressed with zstd/xz/gzip, or qcow2) sent as application/octet-stream.',
        params: Type.Object({ name: NameSchema }),
        querystring: DiskImportQuerySchema,
        response: { 200: ImageSchema },
      },
    },
    async (req) => {
      if (!req.headers['content-type']?.startsWith('application/octet-stream'))
        throw ccError('CC_ERR_BAD_REQUEST', 'send the image as application/octet-stream');
      const name = req.params.name;
      const total = Number(req.headers['content-length'] ?? 0);
      let lastPhase: DiskImportPhase | null = null;
      const doc = await importDiskImage({
        col: ctx.store.images,
        dataDir: ctx.config.dataDir,
        name,
        source: req.body as Readable,
        sourceSize: total,
        firstBoot: req.query.first_boot,
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
        data: {
          image: name,
          kind: 'disk',
          sha256: d.sha256,
          stored_sha256: d.stored_sha256,
          firmware: d.firmware,
          first_boot: d.first_boot,
        },
      });
      const { _id, ...rest } = doc;
      void _id;
      return rest;
    },
  );
}
