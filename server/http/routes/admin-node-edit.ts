/**
 * Admin routes that edit one node (issue 15): metadata key by key, the static address with its DHCP
 * reservation, accepting what a machine reported differently from its manifest row. PATCH of hostname,
 * EFI loader and whole metadata lives with the other node routes (admin-nodes.ts).
 */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NodeSchema, ReservationMacSchema } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { nodeView } from '../../nodes/view.ts';
import { viewContext } from '../../nodes/view-context.ts';
import { acceptManifestMismatch, setMetadataKey, setNodeAddress } from '../../nodes/node-edit.ts';
import { canonicalMac } from '../../dhcp/reservations.ts';
import { ccError } from '../../errors/cc-error.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
/** A metadata key: what a template can address as `node.metadata.KEY` or a rule as ["metadata", KEY]. */
const KeyParams = Type.Object({ id: Type.Integer({ minimum: 1 }), key: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$' }) });
/** A metadata value: text, a number or true/false (what rules compare). */
const MetaValue = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]);

/** Register the node edit routes. */
export function nodeEditRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['nodes'];
  const view = (d: Parameters<typeof nodeView>[0]) => nodeView(d, viewContext(ctx));
  r.put(
    '/api/v1/nodes/:id/metadata/:key',
    {
      schema: {
        tags,
        summary: 'Set one metadata key of a node',
        params: KeyParams,
        body: Type.Object({ value: MetaValue }, { additionalProperties: false }),
        response: { 200: NodeSchema },
      },
    },
    async (req) => view(await setMetadataKey(ctx, req.params.id, req.params.key, req.body.value)),
  );
  r.delete(
    '/api/v1/nodes/:id/metadata/:key',
    { schema: { tags, summary: 'Remove one metadata key of a node', params: KeyParams, response: { 200: NodeSchema } } },
    async (req) => view(await setMetadataKey(ctx, req.params.id, req.params.key, undefined)),
  );
  const AddressAnswer = Type.Object({ node: NodeSchema, note: Type.Union([Type.String(), Type.Null()]) });
  r.put(
    '/api/v1/nodes/:id/address',
    {
      schema: {
        tags,
        summary: 'Give the node a static address: its OS is configured with it, and (full DHCP) its boot MAC reserves it',
        params: IdParams,
        body: Type.Object(
          { ip: Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' }), mac: Type.Optional(ReservationMacSchema) },
          { additionalProperties: false },
        ),
        response: { 200: AddressAnswer },
      },
    },
    async (req) => {
      const mac = req.body.mac === undefined ? undefined : (canonicalMac(req.body.mac) ?? undefined);
      if (req.body.mac !== undefined && mac === undefined) throw ccError('CC_ERR_BAD_REQUEST', `${req.body.mac} is not a unicast MAC`);
      const { node, note } = await setNodeAddress(ctx, req.params.id, req.body.ip, mac);
      return { node: view(node), note };
    },
  );
  r.delete(
    '/api/v1/nodes/:id/address',
    { schema: { tags, summary: 'Remove the static address and its DHCP reservation', params: IdParams, response: { 200: AddressAnswer } } },
    async (req) => {
      const { node, note } = await setNodeAddress(ctx, req.params.id, null);
      return { node: view(node), note };
    },
  );
  r.post(
    '/api/v1/nodes/:id/manifest/accept',
    {
      schema: {
        tags: ['nodes', 'manifest'],
        summary: 'Accept what the machine reported differently from its manifest row (then the manifest policy may bind it)',
        params: IdParams,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: NodeSchema },
      },
    },
    async (req) => view(await acceptManifestMismatch(ctx, req.params.id)),
  );
}
