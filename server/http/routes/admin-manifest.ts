/** Admin routes of the rack manifest (docs/manifest.md): preview, import, where the rack stands. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ManifestPlanSchema, ManifestRequestSchema, ManifestStatusSchema, MAX_MANIFEST_BYTES } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { importManifest, previewManifest } from '../../manifest/apply.ts';
import { manifestStatus } from '../../manifest/status.ts';

/** The body holds the file as base64 at worst (4/3 of its size) plus the JSON around it. */
const BODY_LIMIT = Math.ceil((MAX_MANIFEST_BYTES * 4) / 3) + 64 * 1024;

/** Register the manifest routes. */
export function manifestRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['manifest'];
  r.post(
    '/api/v1/manifest/preview',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags,
        summary: 'What importing this manifest would do, row by row (creates, updates, conflicts, errors); changes nothing',
        body: ManifestRequestSchema,
        response: { 200: ManifestPlanSchema },
      },
    },
    async (req) => previewManifest(ctx, req.body),
  );
  r.post(
    '/api/v1/manifest/import',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags,
        summary: 'Import: expected records for new machines, updates for matched ones; refused when a row is bad unless skip_invalid',
        body: ManifestRequestSchema,
        response: { 200: ManifestPlanSchema },
      },
    },
    async (req) => importManifest(ctx, req.body),
  );
  r.get(
    '/api/v1/manifest',
    { schema: { tags, summary: 'Expected machines not seen yet, arrived, unexpected', response: { 200: ManifestStatusSchema } } },
    async () => manifestStatus(ctx.repo.all()),
  );
}
