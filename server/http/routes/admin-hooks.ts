/**
 * Admin routes of hooks (docs/hooks.md). The hook service lives as long as the
 * admin plane: it starts listening to events here and stops when the plane
 * closes (before the store does).
 */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { HookService, type HookLimits } from '../../hooks/hook-service.ts';
import { viewOf } from '../../nodes/node-query.ts';

/** Start the hook service and register its routes. */
export async function hookRoutes(app: FastifyInstance, ctx: CoreContext, limits?: Partial<HookLimits>): Promise<HookService> {
  const hooks = await HookService.start({
    store: ctx.store,
    events: ctx.events,
    dataDir: ctx.config.dataDir,
    log: ctx.log,
    now: () => ctx.now(),
    nodeView: (id) => {
      const d = ctx.repo.get(id);
      return d ? viewOf(ctx, d) : null;
    },
    ...(limits ? { limits } : {}),
  });
  app.addHook('onClose', () => hooks.stop());
  addRoute(app, 'GET /api/v1/hooks', async () => ({ hooks: hooks.list() }));
  addRoute(app, 'POST /api/v1/hooks', async (req) => hooks.create(req.body));
  addRoute(app, 'PUT /api/v1/hooks/:id', async (req) => hooks.update(req.params.id, req.body));
  addRoute(app, 'DELETE /api/v1/hooks/:id', async (req) => hooks.remove(req.params.id));
  addRoute(app, 'POST /api/v1/hooks/:id/test', async (req) => hooks.testFire(req.params.id));
  addRoute(app, 'GET /api/v1/hooks/:id/deliveries', async (req) => ({ deliveries: await hooks.deliveries(req.params.id) }));
  return hooks;
}
