/**
 * Admin routes that edit one node (issue 15): metadata key by key, the static address with its DHCP
 * reservation, accepting what a machine reported differently from its manifest row. PATCH of hostname,
 * EFI loader and whole metadata lives with the other node routes (admin-nodes.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { viewOf } from '../../nodes/node-query.ts';
import { acceptManifestMismatch, setMetadataKey, setNodeAddress } from '../../nodes/node-edit.ts';
import { canonicalMac } from '../../dhcp/reservations.ts';
import { ccError } from '../../errors/cc-error.ts';

/** Register the node edit routes. */
export function nodeEditRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'PUT /api/v1/nodes/:id/metadata/:key', async (req) =>
    viewOf(ctx, await setMetadataKey(ctx, req.params.id, req.params.key, req.body.value)),
  );
  addRoute(app, 'DELETE /api/v1/nodes/:id/metadata/:key', async (req) =>
    viewOf(ctx, await setMetadataKey(ctx, req.params.id, req.params.key, undefined)),
  );
  addRoute(app, 'PUT /api/v1/nodes/:id/address', async (req) => {
    const mac = req.body.mac === undefined ? undefined : (canonicalMac(req.body.mac) ?? undefined);
    if (req.body.mac !== undefined && mac === undefined) throw ccError('CC_ERR_BAD_REQUEST', `${req.body.mac} is not a unicast MAC`);
    const { node, note } = await setNodeAddress(ctx, req.params.id, req.body.ip, mac);
    return { node: viewOf(ctx, node), note };
  });
  addRoute(app, 'DELETE /api/v1/nodes/:id/address', async (req) => {
    const { node, note } = await setNodeAddress(ctx, req.params.id, null);
    return { node: viewOf(ctx, node), note };
  });
  addRoute(app, 'POST /api/v1/nodes/:id/manifest/accept', async (req) => viewOf(ctx, await acceptManifestMismatch(ctx, req.params.id)));
}
