/** The appliance status the admin API answers: services, the network config in force, node counts. */
import type { ApplianceStatus, ServiceStatus } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';

/** Build the status from the core and the services' states. */
export function applianceStatus(ctx: CoreContext, services: ServiceStatus[]): ApplianceStatus {
  const by_state: Record<string, number> = {};
  for (const d of ctx.repo.all()) by_state[d.state] = (by_state[d.state] ?? 0) + 1;
  const c = ctx.config;
  return {
    services,
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
}
