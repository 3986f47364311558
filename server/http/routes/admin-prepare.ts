/**
 * Admin routes for prepared artifacts (issue 12): what the data dir holds, and a pinned loader
 * upload, so `crashcart prepare` can fill a data dir an appliance holds without touching it from
 * the side (the microkernel goes through the upload routes in admin-uploads.ts). Registered in the
 * uploads scope, where `application/octet-stream` is parsed.
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { CoreContext } from '../../core/context.ts';
import { ccError } from '../../errors/cc-error.ts';
import { HashCache } from '../../prepare/inventory/hash-cache.ts';
import { inspectPrepared } from '../../prepare/inventory/prepared.ts';
import { installLoaderUpload, pinnedLoaderFile } from '../../prepare/loaders/upload.ts';
import { addRoute } from '../route-table.ts';

const OCTETS = 'application/octet-stream';
/** The largest pinned loader (GRUB, ~4 MB) with room: anything bigger cannot match a pin. */
const LOADER_BODY_LIMIT = 16 * 1024 * 1024;

/** Register the prepare routes (inside the uploads scope). */
export function prepareRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const hashes = new HashCache();
  addRoute(app, 'GET /api/v1/prepared', async () => inspectPrepared(ctx.config.dataDir, hashes));
  addRoute(
    app,
    'PUT /api/v1/loaders/:file',
    async (req) => {
      const ct = req.headers['content-type'];
      if (!ct || ct.split(';')[0]!.trim().toLowerCase() !== OCTETS) throw ccError('CC_ERR_UNSUPPORTED_MEDIA', `send the file as ${OCTETS}`);
      if (!pinnedLoaderFile(req.params.file))
        throw ccError('CC_ERR_NOT_FOUND', `loader "${req.params.file}" (the registry lists the files it pins)`);
      const got = await installLoaderUpload(ctx.config.dataDir, req.params.file, req.body as Readable);
      ctx.events.emit('loader.installed', {
        message: `Loader ${got.name} installed (${Math.round(got.bytes / 1024)} KB, pinned sha256)`,
        data: got,
      });
      return got;
    },
    { bodyLimit: LOADER_BODY_LIMIT },
  );
}
