/** Admin routes over nodes: list, detail, facts, timeline, bulk actions, edit, identity conflicts. */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { listNodes, nodeEvents, nodeFacts, requireNode, viewOf } from '../../nodes/node-query.ts';
import { bindNodes, unbindNodes, reinstallNodes } from '../../policies/binder.ts';
import { queueCommand, forgetNodes, approveNodes } from '../../nodes/node-actions.ts';
import { editNode } from '../../nodes/node-edit.ts';
import { keepApart, mergeNodes } from '../../nodes/conflicts.ts';
import { agentSnapshot, bootAgainViaBmc } from '../../bmc/boot-again.ts';

/** Register node routes. */
export function nodeRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/nodes', async (req) => listNodes(ctx, req.query));
  addRoute(app, 'GET /api/v1/nodes/:id', async (req) => viewOf(ctx, requireNode(ctx, req.params.id)));
  addRoute(app, 'GET /api/v1/nodes/:id/facts', async (req) => nodeFacts(ctx, req.params.id));
  addRoute(app, 'GET /api/v1/nodes/:id/events', async (req) => ({ events: await nodeEvents(ctx, req.params.id, req.query.limit) }));
  addRoute(app, 'PATCH /api/v1/nodes/:id', async (req) => viewOf(ctx, await editNode(ctx, req.params.id, req.body)));
  addRoute(app, 'POST /api/v1/nodes/bind', async (req) => bindNodes(ctx, req.body.node_ids, req.body.policy, req.body.confirm_count));
  // Both make a node boot again: through its BMC (cycle, PXE once) when it has one (server/bmc/boot-again.ts).
  addRoute(app, 'POST /api/v1/nodes/unbind', async (req) => {
    const hadAgent = agentSnapshot(ctx, req.body.node_ids);
    return bootAgainViaBmc(ctx, 'unbind', await unbindNodes(ctx, req.body.node_ids), hadAgent);
  });
  addRoute(app, 'POST /api/v1/nodes/reinstall', async (req) => {
    const hadAgent = agentSnapshot(ctx, req.body.node_ids);
    return bootAgainViaBmc(ctx, 'reinstall', await reinstallNodes(ctx, req.body.node_ids), hadAgent);
  });
  addRoute(app, 'POST /api/v1/nodes/reboot', async (req) => queueCommand(ctx, req.body.node_ids, 'reboot'));
  addRoute(app, 'POST /api/v1/nodes/poweroff', async (req) => queueCommand(ctx, req.body.node_ids, 'poweroff'));
  addRoute(app, 'POST /api/v1/nodes/forget', async (req) => forgetNodes(ctx, req.body.node_ids));
  addRoute(app, 'POST /api/v1/nodes/approve', async (req) => approveNodes(ctx, req.body.node_ids));
  addRoute(app, 'POST /api/v1/nodes/merge', async (req) => viewOf(ctx, await mergeNodes(ctx, req.body.into, req.body.from)));
  addRoute(app, 'POST /api/v1/nodes/:id/conflicts/dismiss', async (req) =>
    viewOf(ctx, await keepApart(ctx, req.params.id, req.body.node_id)),
  );
}
