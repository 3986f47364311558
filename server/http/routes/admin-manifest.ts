/** Admin routes of the rack manifest (docs/manifest.md): preview, import, where the rack stands. */
import type { FastifyInstance } from 'fastify';
import { MAX_MANIFEST_BYTES } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { importManifest, previewManifest } from '../../manifest/apply.ts';
import { manifestStatus } from '../../manifest/status.ts';

/** The body holds the file as base64 at worst (4/3 of its size) plus the JSON around it. */
const BODY_LIMIT = Math.ceil((MAX_MANIFEST_BYTES * 4) / 3) + 64 * 1024;

/** Register the manifest routes. */
export function manifestRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'POST /api/v1/manifest/preview', async (req) => previewManifest(ctx, req.body), { bodyLimit: BODY_LIMIT });
  addRoute(app, 'POST /api/v1/manifest/import', async (req) => importManifest(ctx, req.body), { bodyLimit: BODY_LIMIT });
  addRoute(app, 'GET /api/v1/manifest', async () => manifestStatus(ctx.repo.all()));
}
