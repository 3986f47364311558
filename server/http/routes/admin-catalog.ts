/** Admin routes for tags, policies, tasks, the dry-run and settings: each parses, calls a service, answers. */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { deleteTag, listTags, saveTag, tagView } from '../../catalog/tag-actions.ts';
import { deletePolicy, listPolicies, movePolicy, orderPolicies, policyView, savePolicy } from '../../catalog/policy-actions.ts';
import { dryRun } from '../../catalog/dry-run.ts';
import { deleteTask, previewTask, requireTask, saveTask } from '../../catalog/task-actions.ts';

/** Register catalog routes. */
export function catalogRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/tags', async () => ({ tags: listTags(ctx) }));
  addRoute(app, 'GET /api/v1/tags/:name', async (req) => tagView(ctx, req.params.name));
  addRoute(app, 'POST /api/v1/tags', async (req) => saveTag(ctx, req.body, true));
  addRoute(app, 'PUT /api/v1/tags/:name', async (req) => saveTag(ctx, req.body, false, req.params.name));
  addRoute(app, 'DELETE /api/v1/tags/:name', async (req) => deleteTag(ctx, req.params.name));

  addRoute(app, 'GET /api/v1/policies', async () => ({ policies: listPolicies(ctx) }));
  addRoute(app, 'GET /api/v1/policies/:name', async (req) => policyView(ctx, req.params.name));
  addRoute(app, 'POST /api/v1/policies', async (req) => savePolicy(ctx, req.body, true));
  addRoute(app, 'PUT /api/v1/policies/:name', async (req) => savePolicy(ctx, req.body, false, req.params.name));
  addRoute(app, 'DELETE /api/v1/policies/:name', async (req) => deletePolicy(ctx, req.params.name));
  addRoute(app, 'POST /api/v1/policies/order', async (req) => ({ policies: await orderPolicies(ctx, req.body.names) }));
  addRoute(app, 'POST /api/v1/policies/:name/move', async (req) => ({
    policies: await movePolicy(ctx, req.params.name, req.body.direction),
  }));
  addRoute(app, 'POST /api/v1/dry-run', async (req) => ({ matches: await dryRun(ctx, req.body) }));

  addRoute(app, 'GET /api/v1/tasks', async () => ({ tasks: ctx.tasks.list() }));
  addRoute(app, 'GET /api/v1/tasks/:name', async (req) => requireTask(ctx, req.params.name));
  addRoute(app, 'POST /api/v1/tasks', async (req) => saveTask(ctx, req.body, true));
  addRoute(app, 'PUT /api/v1/tasks/:name', async (req) => saveTask(ctx, req.body, false, req.params.name));
  addRoute(app, 'DELETE /api/v1/tasks/:name', async (req) => deleteTask(ctx, req.params.name));
  addRoute(app, 'POST /api/v1/tasks/:name/preview', async (req) => previewTask(ctx, req.params.name, req.body));

  addRoute(app, 'GET /api/v1/settings', async () => ctx.settings.get());
  addRoute(app, 'PATCH /api/v1/settings', async (req) => ctx.settings.patch(req.body));
}
