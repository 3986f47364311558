/** Open the reservation service against the store and the current config (served pools, own address, live leases). */
import type { Config } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { EventSink } from '../events/event-log.ts';
import { ReservationService, type ReservationScope } from './reservations.ts';
import { poolsFor } from './pools.ts';

/** What a reservation is checked against under `c`: its pools, its address, the leases on disk. */
export function reservationScope(c: Config, store: Pick<Store, 'leases'>, now: () => number = Date.now): ReservationScope {
  return {
    pools: poolsFor(c),
    serverIp: c.address?.ip ?? null,
    async leasedTo(ip) {
      const live = (await store.leases.find({ ip, state: 'bound' })).find((d) => d.expires_at > now());
      return live?.mac ?? null;
    },
  };
}

/** The service the core keeps in `ctx.reservations`; `config` is read at each change (Setup may swap it). */
export function openReservations(store: Store, events: EventSink, config: () => Config): Promise<ReservationService> {
  return ReservationService.open(store.reservations, () => reservationScope(config(), store), events);
}
