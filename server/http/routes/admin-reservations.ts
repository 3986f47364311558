/**
 * Admin routes for DHCP reservations: list, read, set and delete per MAC. The
 * checks (served subnet, not the appliance, not another MAC's reservation or
 * lease) and the durable write live in server/dhcp/reservations.ts.
 */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ReservationInputSchema, ReservationMacSchema, ReservationSchema } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { canonicalMac } from '../../dhcp/reservations.ts';
import { ccError } from '../../errors/cc-error.ts';

const MacParams = Type.Object({ mac: ReservationMacSchema });

/** Register the reservation routes. */
export function reservationRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['dhcp'];
  r.get(
    '/api/v1/reservations',
    { schema: { tags, response: { 200: Type.Object({ reservations: Type.Array(ReservationSchema) }) } } },
    async () => ({ reservations: ctx.reservations.list() }),
  );
  r.get('/api/v1/reservations/:mac', { schema: { tags, params: MacParams, response: { 200: ReservationSchema } } }, async (req) => {
    const mac = canonicalMac(req.params.mac);
    const res = mac ? ctx.reservations.reservationFor(mac) : null;
    if (!res) throw ccError('CC_ERR_NOT_FOUND', `no reservation for ${req.params.mac}`);
    return res;
  });
  r.put(
    '/api/v1/reservations/:mac',
    { schema: { tags, params: MacParams, body: ReservationInputSchema, response: { 200: ReservationSchema } } },
    async (req) => {
      const res = await ctx.reservations.setReservation(req.params.mac, req.body.ip, req.body.hostname ?? null);
      return res!;
    },
  );
  r.delete('/api/v1/reservations/:mac', { schema: { tags, params: MacParams } }, async (req, reply) => {
    await ctx.reservations.setReservation(req.params.mac, null);
    return reply.status(204).send();
  });
}
