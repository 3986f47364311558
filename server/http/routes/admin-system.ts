/** Admin routes: status, interfaces, network setup (probe/apply/stop), image list and delete (uploads: admin-uploads.ts). */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ImageSchema, NameSchema, ReadinessSchema, type Readiness } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { deleteImage } from '../../images/image-store.ts';
import { ccError } from '../../errors/cc-error.ts';

/** One service's state for the UI. */
export interface ServiceStatus {
  name: string;
  state: 'running' | 'stopped' | 'failed' | 'disabled';
  detail: string;
  error?: { code: string; message: string; fix: string };
}

/** What the app exposes to the admin plane about its services and network. */
export interface SystemControl {
  services(): ServiceStatus[];
  interfaces(): Promise<unknown[]>;
  probe(iface: string): Promise<unknown>;
  apply(req: { iface: string; address?: string; dhcp: 'full' | 'proxy' | 'off'; range?: string; force?: boolean }): Promise<void>;
  stopNetwork(): Promise<void>;
  /** Can this appliance serve a rack, with the fix per missing piece (issue 12). */
  readiness(): Promise<Readiness>;
}

/** Register system routes. */
export function systemRoutes(app: FastifyInstance, ctx: CoreContext, sys: SystemControl): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const status = () => {
    const by_state: Record<string, number> = {};
    for (const d of ctx.repo.all()) by_state[d.state] = (by_state[d.state] ?? 0) + 1;
    const c = ctx.config;
    return {
      services: sys.services(),
      config: {
        iface: c.iface,
        address: c.address ? `${c.address.ip}/${c.address.prefix}` : null,
        dhcp: c.dhcp,
        range: c.range ? `${c.range.start}-${c.range.end}` : null,
        publicUrl: c.publicUrl,
        lab: c.lab ? `sim:${c.lab.nodes}` : null,
      },
      counts: { nodes: ctx.repo.size, by_state },
    };
  };
  r.get('/api/v1/status', { schema: { tags: ['system'] } }, async () => status());
  r.get('/api/v1/interfaces', { schema: { tags: ['system'] } }, async () => ({ interfaces: await sys.interfaces() }));
  r.get(
    '/api/v1/readiness',
    {
      schema: {
        tags: ['system'],
        summary: 'What this appliance needs to serve a rack, each row with its fix',
        response: { 200: ReadinessSchema },
      },
    },
    async () => sys.readiness(),
  );
  const IfaceBody = Type.Object({ iface: Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,15}$' }) }, { additionalProperties: false });
  r.post('/api/v1/setup/probe', { schema: { tags: ['system'], body: IfaceBody } }, async (req) => sys.probe(req.body.iface));
  r.post(
    '/api/v1/setup/apply',
    {
      schema: {
        tags: ['system'],
        body: Type.Object(
          {
            iface: Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,15}$' }),
            address: Type.Optional(Type.String({ maxLength: 18 })),
            dhcp: Type.Union([Type.Literal('full'), Type.Literal('proxy'), Type.Literal('off')]),
            range: Type.Optional(Type.String({ maxLength: 31 })),
            force: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      await sys.apply(req.body);
      return status();
    },
  );
  r.post('/api/v1/setup/stop', { schema: { tags: ['system'], body: Type.Object({}, { additionalProperties: false }) } }, async () => {
    await sys.stopNetwork();
    return status();
  });

  // Images
  r.get(
    '/api/v1/images',
    { schema: { tags: ['images'], response: { 200: Type.Object({ images: Type.Array(ImageSchema) }) } } },
    async () => ({
      images: (await ctx.store.images.find({}, { name: 1 })).map(({ _id, ...rest }) => (void _id, rest)),
    }),
  );
  r.delete('/api/v1/images/:name', { schema: { tags: ['images'], params: Type.Object({ name: NameSchema }) } }, async (req, reply) => {
    const users = ctx.policies.list().filter((p) => p.image === req.params.name);
    if (users.length) throw ccError('CC_ERR_IN_USE', `image "${req.params.name}" is used by policy ${users.map((p) => p.name).join(', ')}`);
    await deleteImage(ctx.store.images, ctx.config.dataDir, req.params.name);
    return reply.status(204).send();
  });
}
