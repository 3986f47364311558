/** A bound DHCP lease put straight into an appliance's lease store, the way its DHCP server writes one. */
import type { TestAppliance } from './route-appliance.ts';

/** The appliance's DHCP leased `ip` to `mac` for the next hour. */
export function putBoundLease(t: TestAppliance, mac: string, ip: string) {
  return t.app.ctx.store.leases.put({
    _id: mac,
    mac,
    ip,
    state: 'bound',
    expires_at: Date.now() + 3_600_000,
    pool: 'test',
    hostname: null,
    client_id: null,
    updated_at: Date.now(),
  });
}
