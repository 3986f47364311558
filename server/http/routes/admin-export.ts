/** Admin route: `GET /api/v1/export/:format`, the inventory for the next tool (docs/exports.md). */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { EXPORT_FORMATS } from '../../../contract/export-formats.ts';
import { addRoute } from '../route-table.ts';
import { exportNodesCsv, exportNodesJson } from '../../nodes/node-export.ts';
import { exportInput } from '../../export/export-source.ts';
import { renderExport } from '../../export/render-export.ts';

/** Register the export route. */
export function exportRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/export/:format', async (req, reply) => {
    const f = req.params.format;
    const part = req.query.part;
    // The UI's selection; an id that names no node simply exports nothing for it.
    const only = req.query.ids ? new Set(req.query.ids.split(',').map(Number)) : null;
    const file = f === 'netbox' && part && part !== 'devices' ? `crashcart-netbox-${part}.csv` : EXPORT_FORMATS[f].file;
    const body =
      f === 'json'
        ? JSON.stringify(await exportNodesJson(ctx, only), null, 2) + '\n'
        : f === 'csv'
          ? exportNodesCsv(ctx, only)
          : renderExport(f, await exportInput(ctx, only), part);
    return reply
      .type(`${EXPORT_FORMATS[f].type}; charset=utf-8`)
      .header('content-disposition', `attachment; filename="${file}"`)
      .send(body);
  });
}
