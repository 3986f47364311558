/**
 * Raw-body uploads: OS image files, whole-disk images and microkernel files. They live in their
 * own plugin scope so `application/octet-stream` is parsed here and nowhere
 * else; every other admin route takes JSON only.
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { importImageUpload, installMicrokernel, stageMicrokernelUpload } from '../../images/image-actions.ts';
import { importDiskUpload } from '../../images/disk-upload.ts';
import { MAX_DISK_IMAGE_BYTES } from '../../images/disk-import.ts';
import { importIsoUpload } from '../../images/iso/iso-upload.ts';
import { ccError } from '../../errors/cc-error.ts';

const OCTETS = 'application/octet-stream';

/** Register the upload routes in their own scope. */
export function uploadRoutes(app: FastifyInstance, ctx: CoreContext): void {
  app.addContentTypeParser(OCTETS, (_req, payload, done) => done(null, payload));
  const raw = (ct: string | undefined) => {
    if (!ct || ct.split(';')[0]!.trim().toLowerCase() !== OCTETS) throw ccError('CC_ERR_UNSUPPORTED_MEDIA', `send the file as ${OCTETS}`);
  };

  addRoute(
    app,
    'PUT /api/v1/images/:name/files/:file',
    async (req) => {
      raw(req.headers['content-type']);
      const total = Number(req.headers['content-length'] ?? 0);
      return importImageUpload(ctx, req.params.name, req.params.file, req.body as Readable, total);
    },
    { bodyLimit: 64 * 1024 ** 3 },
  );
  addRoute(
    app,
    'PUT /api/v1/images/:name/disk',
    async (req) => {
      raw(req.headers['content-type']);
      const total = Number(req.headers['content-length'] ?? 0);
      return importDiskUpload(ctx, req.params.name, req.body as Readable, total, req.query.first_boot);
    },
    { bodyLimit: MAX_DISK_IMAGE_BYTES },
  );
  addRoute(
    app,
    'PUT /api/v1/images/:name/iso',
    async (req) => {
      raw(req.headers['content-type']);
      return importIsoUpload(ctx, req.params.name, req.body as Readable);
    },
    // A dual-layer DVD; the free space of the data dir is checked before unpacking.
    { bodyLimit: 16 * 1024 ** 3 },
  );
  addRoute(
    app,
    'PUT /api/v1/microkernel/staging/:file',
    async (req) => {
      raw(req.headers['content-type']);
      return stageMicrokernelUpload(ctx, req.params.file, req.body as Readable, req.query.arch);
    },
    { bodyLimit: 4 * 1024 ** 3 },
  );
  addRoute(app, 'POST /api/v1/microkernel/install', async (req) => installMicrokernel(ctx, req.body.files, req.body.arch));
}
