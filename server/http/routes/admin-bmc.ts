/** Admin routes of BMC power and boot control: a node's BMC (set, remove, accept in-band), bulk power. */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { viewOf } from '../../nodes/node-query.ts';
import { clearNodeBmc, setNodeBmc } from '../../bmc/node-bmc.ts';
import { powerNodes } from '../../bmc/power-actions.ts';
import { acceptEnrolment } from '../../bmc/enrolment/enrol-apply.ts';
import { requestEnrolment } from '../../bmc/enrolment/enrol-request.ts';
import { identifyNodeBmc, nodeFromBmc, type FromBmcResult } from '../../bmc/from-bmc.ts';

/** Register the BMC routes. */
export function bmcRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'PUT /api/v1/nodes/:id/bmc', async (req) => viewOf(ctx, await setNodeBmc(ctx, req.params.id, req.body)));
  addRoute(app, 'DELETE /api/v1/nodes/:id/bmc', async (req) => viewOf(ctx, await clearNodeBmc(ctx, req.params.id)));
  addRoute(app, 'POST /api/v1/nodes/:id/bmc/accept', async (req) =>
    viewOf(ctx, await acceptEnrolment(ctx, req.params.id, req.body.address)),
  );
  addRoute(app, 'POST /api/v1/nodes/power', async (req) => powerNodes(ctx, req.body));
  const answer = (r: FromBmcResult) => ({ node: viewOf(ctx, r.node), identity: r.identity, warnings: r.warnings });
  addRoute(app, 'POST /api/v1/nodes/from-bmc', async (req) => answer(await nodeFromBmc(ctx, req.body)));
  addRoute(app, 'POST /api/v1/nodes/:id/bmc/identify', async (req) => answer(await identifyNodeBmc(ctx, req.params.id)));
  addRoute(app, 'POST /api/v1/nodes/:id/bmc/enrol', async (req) => viewOf(ctx, await requestEnrolment(ctx, req.params.id)));
}
