/** Admin routes over nodes: list, detail, facts, timeline, bulk actions, edit, identity conflicts. */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BindRequestSchema,
  BootChainSettingSchema,
  BulkResultSchema,
  ConflictDismissSchema,
  MergeRequestSchema,
  NodeSchema,
  NodeSelectionSchema,
} from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import type { NodeDoc } from '../../store/docs.ts';
import { nodeView } from '../../nodes/view.ts';
import { describeBootChain } from '../../nodes/boot-settings.ts';
import { bindNodes, unbindNodes, reinstallNodes } from '../../policies/binder.ts';
import { queueCommand, forgetNodes, patchNode, approveNodes } from '../../nodes/node-actions.ts';
import { keepApart, mergeNodes } from '../../nodes/conflicts.ts';
import { ccError } from '../../errors/cc-error.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Register node routes. */
export function nodeRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (d: NodeDoc) => nodeView(d, ctx.settings.get(), describeBootChain(ctx, d));
  r.get(
    '/api/v1/nodes',
    {
      schema: {
        tags: ['nodes'],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          offset: Type.Optional(Type.Integer({ minimum: 0 })),
          state: Type.Optional(Type.String({ maxLength: 32 })),
          q: Type.Optional(Type.String({ maxLength: 256 })),
        }),
        response: { 200: Type.Object({ nodes: Type.Array(NodeSchema), total: Type.Integer() }) },
      },
    },
    async (req) => {
      let all = ctx.repo.all().sort((a, b) => a.id - b.id);
      if (req.query.state) all = all.filter((d) => d.state === req.query.state);
      if (req.query.q) {
        const q = req.query.q.toLowerCase();
        all = all.filter((d) =>
          [d.hostname, d.serial, d.manufacturer, d.product, d.ip, ...d.macs, ...d.tags].some((v) => v?.toLowerCase().includes(q)),
        );
      }
      const off = req.query.offset ?? 0;
      return { nodes: all.slice(off, off + (req.query.limit ?? 1000)).map(view), total: all.length };
    },
  );
  r.get('/api/v1/nodes/:id', { schema: { tags: ['nodes'], params: IdParams, response: { 200: NodeSchema } } }, async (req) => {
    const d = ctx.repo.get(req.params.id);
    if (!d) throw ccError('CC_ERR_NOT_FOUND', `node ${req.params.id}`);
    return view(d);
  });
  r.get('/api/v1/nodes/:id/facts', { schema: { tags: ['nodes'], params: IdParams } }, async (req) => {
    if (!ctx.repo.get(req.params.id)) throw ccError('CC_ERR_NOT_FOUND', `node ${req.params.id}`);
    const f = await ctx.store.facts.findOne({ _id: String(req.params.id) });
    return { facts: f?.facts ?? {}, inventory: f?.inventory ?? null };
  });
  r.get(
    '/api/v1/nodes/:id/events',
    {
      schema: {
        tags: ['nodes'],
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })) }),
      },
    },
    async (req) => ({ events: await ctx.events.query({ node_id: req.params.id, limit: req.query.limit ?? 500 }) }),
  );
  r.patch(
    '/api/v1/nodes/:id',
    {
      schema: {
        tags: ['nodes'],
        params: IdParams,
        body: Type.Object(
          {
            hostname: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$' })),
            efi_loader: Type.Optional(Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi'), Type.Null()])),
            /** This node's UEFI chain (null: its tags' or the appliance's). */
            boot_chain: Type.Optional(Type.Union([BootChainSettingSchema, Type.Null()])),
            metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
        response: { 200: NodeSchema },
      },
    },
    async (req) => view(await patchNode(ctx, req.params.id, req.body)),
  );
  const bulk = { tags: ['nodes'], body: NodeSelectionSchema, response: { 200: BulkResultSchema } };
  r.post('/api/v1/nodes/bind', { schema: { tags: ['nodes'], body: BindRequestSchema, response: { 200: BulkResultSchema } } }, async (req) =>
    bindNodes(ctx, req.body.node_ids, req.body.policy),
  );
  r.post('/api/v1/nodes/unbind', { schema: bulk }, async (req) => unbindNodes(ctx, req.body.node_ids));
  r.post('/api/v1/nodes/reinstall', { schema: bulk }, async (req) => reinstallNodes(ctx, req.body.node_ids));
  r.post('/api/v1/nodes/reboot', { schema: bulk }, async (req) => queueCommand(ctx, req.body.node_ids, 'reboot'));
  r.post('/api/v1/nodes/poweroff', { schema: bulk }, async (req) => queueCommand(ctx, req.body.node_ids, 'poweroff'));
  r.post('/api/v1/nodes/forget', { schema: bulk }, async (req) => forgetNodes(ctx, req.body.node_ids));
  r.post('/api/v1/nodes/approve', { schema: bulk }, async (req) => approveNodes(ctx, req.body.node_ids));
  // Identity conflicts (docs/identity.md 1): only the operator merges records or keeps them apart.
  r.post('/api/v1/nodes/merge', { schema: { tags: ['nodes'], body: MergeRequestSchema, response: { 200: NodeSchema } } }, async (req) =>
    view(await mergeNodes(ctx, req.body.into, req.body.from)),
  );
  r.post(
    '/api/v1/nodes/:id/conflicts/dismiss',
    { schema: { tags: ['nodes'], params: IdParams, body: ConflictDismissSchema, response: { 200: NodeSchema } } },
    async (req) => view(await keepApart(ctx, req.params.id, req.body.node_id)),
  );
}
