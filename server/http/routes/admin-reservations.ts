/**
 * Admin routes for DHCP reservations: list, read, set and delete per MAC. The
 * checks (served subnet, not the appliance, not another MAC's reservation or
 * lease) and the durable write live in server/dhcp/reservations.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { canonicalMac } from '../../dhcp/reservations.ts';
import { ccError } from '../../errors/cc-error.ts';

/** Register the reservation routes. */
export function reservationRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/reservations', async () => ({ reservations: ctx.reservations.list() }));
  addRoute(app, 'GET /api/v1/reservations/:mac', async (req) => {
    const mac = canonicalMac(req.params.mac);
    const res = mac ? ctx.reservations.reservationFor(mac) : null;
    if (!res) throw ccError('CC_ERR_NOT_FOUND', `no reservation for ${req.params.mac}`);
    return res;
  });
  addRoute(app, 'PUT /api/v1/reservations/:mac', async (req) => {
    const res = await ctx.reservations.setReservation(req.params.mac, req.body.ip, req.body.hostname ?? null);
    return res!;
  });
  addRoute(app, 'DELETE /api/v1/reservations/:mac', async (req) => {
    await ctx.reservations.setReservation(req.params.mac, null);
  });
}
