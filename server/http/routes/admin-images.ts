/** Admin routes: the image list and image deletion (uploads: admin-uploads.ts). */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { listImages, removeImage } from '../../images/image-actions.ts';

/** Register image routes. */
export function imageRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/images', async () => ({ images: await listImages(ctx) }));
  addRoute(app, 'DELETE /api/v1/images/:name', async (req) => removeImage(ctx, req.params.name));
}
