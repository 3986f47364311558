/** Admin routes for tags, policies, tasks, the dry-run and settings. */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DryRunRequestSchema,
  NameSchema,
  PolicyInputSchema,
  PolicySchema,
  SettingsSchema,
  TagInputSchema,
  TagSchema,
  TaskInputSchema,
  TaskSchema,
  type Facts,
  type PolicyInput,
} from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import type { PolicyDoc } from '../../store/docs.ts';
import { autoBindAll, boundCount, policyRefusal } from '../../policies/binder.ts';
import { retag } from '../../tags/retag.ts';
import { taskContext } from '../../tasks/task-service.ts';
import { preparePolicyInput } from '../../policies/policy-input.ts';
import { taskNetwork } from '../../nodes/static-ip.ts';
import { ccError } from '../../errors/cc-error.ts';

const NameParams = Type.Object({ name: NameSchema });

async function allFacts(ctx: CoreContext): Promise<Map<number, Facts>> {
  const m = new Map<number, Facts>();
  for (const f of await ctx.store.facts.find()) m.set(Number(f._id), f.facts);
  return m;
}

/** Re-evaluate every node's tags after a rule changed, then auto-bind. */
async function retagAll(ctx: CoreContext): Promise<void> {
  const facts = await allFacts(ctx);
  await ctx.lock.run(async () => {
    for (const d of ctx.repo.all()) if (d.registered_at && retag(ctx, d, facts.get(d.id) ?? {})) await ctx.repo.save(d);
  });
  await autoBindAll(ctx);
}

/** Register catalog routes. */
export function catalogRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tagCount = (name: string) => ctx.repo.all().filter((d) => d.tags.includes(name)).length;

  // Tags
  r.get('/api/v1/tags', { schema: { tags: ['tags'], response: { 200: Type.Object({ tags: Type.Array(TagSchema) }) } } }, async () => ({
    tags: ctx.tags.list().map((t) => ctx.tags.view(t, tagCount(t.name))),
  }));
  r.get('/api/v1/tags/:name', { schema: { tags: ['tags'], params: NameParams, response: { 200: TagSchema } } }, async (req) => {
    const t = ctx.tags.get(req.params.name);
    if (!t) throw ccError('CC_ERR_NOT_FOUND', `tag "${req.params.name}"`);
    return ctx.tags.view(t, tagCount(t.name));
  });
  r.post('/api/v1/tags', { schema: { tags: ['tags'], body: TagInputSchema, response: { 201: TagSchema } } }, async (req, reply) => {
    const t = await ctx.tags.put(req.body, true);
    ctx.events.emit('tag.changed', { message: `Tag ${t.name} created`, data: { name: t.name, rule: t.rule } });
    await retagAll(ctx);
    return reply.status(201).send(ctx.tags.view(t, tagCount(t.name)));
  });
  r.put(
    '/api/v1/tags/:name',
    { schema: { tags: ['tags'], params: NameParams, body: TagInputSchema, response: { 200: TagSchema } } },
    async (req) => {
      if (req.body.name !== req.params.name) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
      const t = await ctx.tags.put(req.body, false);
      ctx.events.emit('tag.changed', { message: `Tag ${t.name} changed`, data: { name: t.name, rule: t.rule } });
      await retagAll(ctx);
      return ctx.tags.view(t, tagCount(t.name));
    },
  );
  r.delete('/api/v1/tags/:name', { schema: { tags: ['tags'], params: NameParams } }, async (req, reply) => {
    await ctx.tags.remove(
      req.params.name,
      ctx.policies
        .list()
        .filter((p) => p.tags.includes(req.params.name))
        .map((p) => p.name),
    );
    ctx.events.emit('tag.changed', { message: `Tag ${req.params.name} deleted`, data: { name: req.params.name } });
    await retagAll(ctx);
    return reply.status(204).send();
  });

  // Policies
  const checkRefs = (p: PolicyInput, old: PolicyDoc | undefined) => {
    const missing = (p.tags ?? []).filter((t) => !ctx.tags.get(t));
    if (missing.length) throw ccError('CC_ERR_BAD_REQUEST', `tags: no tag named ${missing.map((t) => `"${t}"`).join(', ')}`);
    const task = ctx.tasks.get(p.task);
    if (!task)
      throw ccError(
        'CC_ERR_BAD_REQUEST',
        `task: no task named "${p.task}" (have: ${ctx.tasks
          .list()
          .map((t) => t.name)
          .join(', ')})`,
      );
    return preparePolicyInput(p, old, task);
  };
  const pview = (name: string) => {
    const p = ctx.policies.get(name)!;
    return ctx.policies.view(p, boundCount(ctx, name), ctx.tasks.get(p.task));
  };
  r.get(
    '/api/v1/policies',
    { schema: { tags: ['policies'], response: { 200: Type.Object({ policies: Type.Array(PolicySchema) }) } } },
    async () => ({
      policies: ctx.policies.list().map((p) => pview(p.name)),
    }),
  );
  r.get('/api/v1/policies/:name', { schema: { tags: ['policies'], params: NameParams, response: { 200: PolicySchema } } }, async (req) => {
    if (!ctx.policies.get(req.params.name)) throw ccError('CC_ERR_NOT_FOUND', `policy "${req.params.name}"`);
    return pview(req.params.name);
  });
  r.post(
    '/api/v1/policies',
    { schema: { tags: ['policies'], body: PolicyInputSchema, response: { 201: PolicySchema } } },
    async (req, reply) => {
      const p = await ctx.policies.put(req.body, true, checkRefs);
      ctx.events.emit('policy.changed', { message: `Policy ${p.name} created`, data: { name: p.name } });
      await autoBindAll(ctx);
      return reply.status(201).send(pview(p.name));
    },
  );
  r.put(
    '/api/v1/policies/:name',
    { schema: { tags: ['policies'], params: NameParams, body: PolicyInputSchema, response: { 200: PolicySchema } } },
    async (req) => {
      if (req.body.name !== req.params.name) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
      if (!ctx.policies.get(req.params.name)) throw ccError('CC_ERR_NOT_FOUND', `policy "${req.params.name}"`);
      const p = await ctx.policies.put(req.body, false, checkRefs);
      ctx.events.emit('policy.changed', { message: `Policy ${p.name} changed`, data: { name: p.name } });
      await autoBindAll(ctx);
      return pview(p.name);
    },
  );
  r.delete('/api/v1/policies/:name', { schema: { tags: ['policies'], params: NameParams } }, async (req, reply) => {
    const n = boundCount(ctx, req.params.name);
    if (n > 0) throw ccError('CC_ERR_IN_USE', `${n} node(s) are bound to policy "${req.params.name}"`);
    await ctx.policies.remove(req.params.name);
    ctx.events.emit('policy.changed', { message: `Policy ${req.params.name} deleted`, data: { name: req.params.name } });
    return reply.status(204).send();
  });
  r.post(
    '/api/v1/policies/order',
    {
      schema: {
        tags: ['policies'],
        body: Type.Object({ names: Type.Array(NameSchema, { maxItems: 1000 }) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      await ctx.policies.setOrder(req.body.names);
      ctx.events.emit('policy.changed', { message: `Policy order: ${req.body.names.join(', ')}`, data: { order: req.body.names } });
      return { policies: ctx.policies.list().map((p) => pview(p.name)) };
    },
  );
  r.post(
    '/api/v1/policies/:name/move',
    {
      schema: {
        tags: ['policies'],
        params: NameParams,
        body: Type.Object({ direction: Type.Union([Type.Literal('up'), Type.Literal('down')]) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      await ctx.policies.move(req.params.name, req.body.direction);
      return { policies: ctx.policies.list().map((p) => pview(p.name)) };
    },
  );

  // Dry run: which nodes would this rule / tag set / policy match, and why not.
  r.post('/api/v1/dry-run', { schema: { tags: ['policies'], body: DryRunRequestSchema } }, async (req) => {
    const b = req.body;
    if (!b.rule && !b.tags && !b.policy) throw ccError('CC_ERR_BAD_REQUEST', 'give one of rule, tags or policy');
    if (b.rule) ctx.tags.check(null, b.rule);
    const p = b.policy ? ctx.policies.get(b.policy) : undefined;
    if (b.policy && !p) throw ccError('CC_ERR_NOT_FOUND', `policy "${b.policy}"`);
    const facts = await allFacts(ctx);
    const nodes = b.node_id ? [ctx.repo.get(b.node_id)].filter((d) => d !== undefined) : ctx.repo.all().sort((x, y) => x.id - y.id);
    if (b.node_id && nodes.length === 0) throw ccError('CC_ERR_NOT_FOUND', `node ${b.node_id}`);
    const matches = nodes.map((d) => {
      let reasons: string[] = [];
      if (b.rule) reasons = ctx.tags.explain(b.rule, facts.get(d.id) ?? {}, d).reasons;
      else if (b.tags) reasons = b.tags.filter((t) => !d.tags.includes(t)).map((t) => `node lacks tag "${t}"`);
      else if (p) {
        reasons = policyRefusal(ctx, p, d);
        if (d.policy && d.policy !== p.name) reasons.push(`already bound to policy "${d.policy}"`);
        if (!d.registered_at) reasons.push('not registered yet (auto-binding needs facts; bind explicitly to skip discovery)');
      }
      if (!facts.has(d.id) && b.rule) reasons.push('no facts yet (the node has not registered)');
      return { node_id: d.id, hostname: d.hostname, matched: reasons.length === 0, reasons };
    });
    return { matches };
  });

  // Tasks
  r.get('/api/v1/tasks', { schema: { tags: ['tasks'], response: { 200: Type.Object({ tasks: Type.Array(TaskSchema) }) } } }, async () => ({
    tasks: ctx.tasks.list(),
  }));
  r.get('/api/v1/tasks/:name', { schema: { tags: ['tasks'], params: NameParams, response: { 200: TaskSchema } } }, async (req) => {
    const t = ctx.tasks.get(req.params.name);
    if (!t) throw ccError('CC_ERR_NOT_FOUND', `task "${req.params.name}"`);
    return t;
  });
  r.post('/api/v1/tasks', { schema: { tags: ['tasks'], body: TaskInputSchema, response: { 201: TaskSchema } } }, async (req, reply) =>
    reply.status(201).send(await ctx.tasks.put(req.body, true)),
  );
  r.put(
    '/api/v1/tasks/:name',
    { schema: { tags: ['tasks'], params: NameParams, body: TaskInputSchema, response: { 200: TaskSchema } } },
    async (req) => {
      if (req.body.name !== req.params.name) throw ccError('CC_ERR_BAD_REQUEST', 'name in the body must match the URL');
      return ctx.tasks.put(req.body, false);
    },
  );
  r.delete('/api/v1/tasks/:name', { schema: { tags: ['tasks'], params: NameParams } }, async (req, reply) => {
    const users = ctx.policies.list().filter((p) => p.task === req.params.name);
    if (users.length) throw ccError('CC_ERR_IN_USE', `task "${req.params.name}" is used by policy ${users.map((p) => p.name).join(', ')}`);
    await ctx.tasks.remove(req.params.name);
    return reply.status(204).send();
  });
  r.post(
    '/api/v1/tasks/:name/preview',
    {
      schema: {
        tags: ['tasks'],
        params: NameParams,
        body: Type.Object({ node_id: Type.Integer({ minimum: 1 }), policy: Type.Optional(NameSchema) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const node = ctx.repo.get(req.body.node_id);
      if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${req.body.node_id}`);
      const pname = req.body.policy ?? node.policy;
      const policy = (pname ? ctx.policies.get(pname) : undefined) ?? {
        _id: '(preview)',
        name: '(preview)',
        priority: 0,
        enabled: true,
        tags: [],
        max_count: null,
        task: req.params.name,
        image: null,
        hostname_template: 'node${id}',
        root_password_hash: null,
        ssh_keys: [],
        metadata: {},
      };
      const image = policy.image ? await ctx.store.images.findOne({ _id: policy.image }) : null;
      const facts = (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts ?? {};
      const previewNode = { ...node, hostname: node.hostname ?? `node${node.id}` };
      return ctx.tasks.renderFor(
        req.params.name,
        taskContext({
          publicUrl: ctx.config.publicUrl,
          node: previewNode,
          policy,
          image,
          facts,
          token: 'preview-token',
          network: taskNetwork(ctx, node),
        }),
      );
    },
  );

  // Settings (pushed to agents with their next answer)
  r.get('/api/v1/settings', { schema: { tags: ['settings'] } }, async () => ctx.settings.get());
  r.patch('/api/v1/settings', { schema: { tags: ['settings'], body: SettingsSchema } }, async (req) => ctx.settings.patch(req.body));
}
