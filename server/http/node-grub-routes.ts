/**
 * The node plane's GRUB routes (docs/boot.md): `/grub/grub.cfg`, the bootstrap (the text TFTP serves as
 * `grub/grub.cfg`), and `/grub/node/MAC/CPU/UUID/SERIAL.cfg`, the per-node configuration, decided like
 * iPXE's `/boot` (boot-flow.ts). Debian's network GRUB reads both over TFTP (it has no http module); these
 * serve GRUBs that have one, and operators checking what a node would get.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CoreContext } from '../core/context.ts';
import { plainIp } from '../nodes/node-address.ts';
import { grubNodeConfig } from '../nodes/grub-boot.ts';
import { parseGrubNodeName } from '../boot/grub-names.ts';
import { grubBootstrapCfg } from '../boot/grub-scripts.ts';
import { ccError } from '../errors/cc-error.ts';

const GRUB = 'text/plain; charset=utf-8';

/** Register the GRUB routes on the node plane. */
export function grubRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/grub/grub.cfg', async (_req, reply) => reply.type(GRUB).send(grubBootstrapCfg(ctx.config.publicUrl)));
  // The same per-node configuration GRUB reads over TFTP, for GRUBs with an http module and for operators.
  r.get('/grub/node/*', async (req, reply) => {
    const n = parseGrubNodeName(`grub/node/${(req.params as { '*': string })['*']}`);
    if (!n) throw ccError('CC_ERR_NOT_FOUND', 'a GRUB node configuration is named grub/node/MAC/CPU/UUID/SERIAL.cfg');
    return reply.type(GRUB).send(await grubNodeConfig(ctx, n, plainIp(req.ip)));
  });
}
