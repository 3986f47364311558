/** Admin routes of BMC power and boot control: a node's BMC (set, remove, accept in-band), bulk power. */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BmcAcceptSchema, BmcInputSchema, NodeSchema, PowerRequestSchema, PowerResultSchema } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { nodeView } from '../../nodes/view.ts';
import { clearNodeBmc, setNodeBmc } from '../../bmc/node-bmc.ts';
import { powerNodes } from '../../bmc/power-actions.ts';
import { acceptEnrolment } from '../../bmc/enrolment/enrol-apply.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Register the BMC routes. */
export function bmcRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (d: Parameters<typeof nodeView>[0]) => nodeView(d, ctx.settings.get());
  r.put(
    '/api/v1/nodes/:id/bmc',
    { schema: { tags: ['bmc'], params: IdParams, body: BmcInputSchema, response: { 200: NodeSchema } } },
    async (req) => view(await setNodeBmc(ctx, req.params.id, req.body)),
  );
  r.delete('/api/v1/nodes/:id/bmc', { schema: { tags: ['bmc'], params: IdParams, response: { 200: NodeSchema } } }, async (req) =>
    view(await clearNodeBmc(ctx, req.params.id)),
  );
  r.post(
    '/api/v1/nodes/:id/bmc/accept',
    { schema: { tags: ['bmc'], params: IdParams, body: BmcAcceptSchema, response: { 200: NodeSchema } } },
    async (req) => view(await acceptEnrolment(ctx, req.params.id, req.body.address)),
  );
  r.post(
    '/api/v1/nodes/power',
    { schema: { tags: ['bmc'], body: PowerRequestSchema, response: { 200: PowerResultSchema } } },
    async (req) => powerNodes(ctx, req.body),
  );
}
