/**
 * Bundles through a running appliance (issue 12): `PUT /api/v1/bundle` takes a bundle file, keeps it
 * in a private staging file in the data dir, verifies all of it, then imports it (server/bundle/
 * import.ts; nodes need a stopped appliance). `GET /api/v1/bundle` streams an export of this data
 * dir; secrets never leave through the API (stop the appliance and export on the data dir instead).
 * Registered in the uploads scope, where `application/octet-stream` is parsed.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { ccError } from '../../errors/cc-error.ts';
import { HashCache } from '../../prepare/inventory/hash-cache.ts';
import { realProbes } from '../../readiness/probes.ts';
import { importBundle } from '../../bundle/import.ts';
import { bundleItems, writeBundle } from '../../bundle/export.ts';
import { addRoute } from '../route-table.ts';
import { openFileSink, type FileSink } from '../../store/file-sink.ts';

const OCTETS = 'application/octet-stream';
/** A rack's worth of disk images; the free-space check inside the import is the real bound. */
const BUNDLE_BODY_LIMIT = 512 * 1024 ** 3;

/** Register the bundle routes (inside the uploads scope). */
export function bundleRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const hashes = new HashCache();
  addRoute(
    app,
    'PUT /api/v1/bundle',
    async (req) => {
      const ct = req.headers['content-type'];
      if (!ct || ct.split(';')[0]!.trim().toLowerCase() !== OCTETS)
        throw ccError('CC_ERR_UNSUPPORTED_MEDIA', `send the bundle as ${OCTETS}`);
      const dir = path.join(ctx.config.dataDir, 'bundle.importing');
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const staged = path.join(dir, `${randomBytes(6).toString('hex')}.tar`);
      let sink: FileSink | undefined;
      try {
        sink = await openFileSink(staged, 'wx', 0o600);
        await pipeline(req.body as Readable, sink.out);
        const rep = await ctx.lock.run(() =>
          importBundle(staged, {
            dataDir: ctx.config.dataDir,
            catalog: ctx,
            nodesAllowed: false,
            freeBytes: () => realProbes.freeBytes(ctx.config.dataDir),
          }),
        );
        const summary = `${rep.files} files (${Math.round(rep.bytes / 1048576)} MiB): loaders ${rep.loaders.length}, microkernels ${rep.microkernels.join(', ') || 'none'}, images ${rep.images.join(', ') || 'none'}`;
        const answer = {
          files: rep.files,
          bytes: rep.bytes,
          loaders: rep.loaders,
          microkernels: rep.microkernels,
          images: rep.images,
          store: rep.store,
          created_at: rep.manifest.created_at,
        };
        ctx.events.emit('bundle.imported', { message: `Bundle imported: ${summary}`, data: answer });
        return answer;
      } finally {
        await sink?.settled();
        await fsp.rm(staged, { force: true });
        await fsp.rmdir(dir).catch(() => undefined);
      }
    },
    { bodyLimit: BUNDLE_BODY_LIMIT },
  );
  addRoute(app, 'GET /api/v1/bundle', async (req, reply) => {
    const o = { withNodes: req.query.with_nodes === true, withSecrets: false, now: ctx.now() };
    const { items, manifest } = await bundleItems({ dataDir: ctx.config.dataDir, catalog: ctx, hashes }, o);
    const out = new PassThrough();
    // Errors after the first byte cannot become a JSON error: the stream is cut, and the importer's checks see it.
    void writeBundle(items, manifest, { write: (c) => new Promise<void>((res) => (out.write(c) ? res() : out.once('drain', res))) }, o)
      .then(() => out.end())
      .catch((e: unknown) => out.destroy(e as Error));
    return reply.type('application/x-tar').header('content-disposition', 'attachment; filename="crashcart-bundle.tar"').send(out);
  });
}
