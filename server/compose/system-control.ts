/** The admin plane's handle on the appliance's own services and network (the Setup screen): status, NICs, probe, apply, stop. */
import type { CoreContext } from '../core/context.ts';
import type { Plugin } from '../core/plugin.ts';
import type { MachineView } from '../config/network.ts';
import type { SystemControl } from '../http/routes/admin-system.ts';
import type { NetworkServices } from './network-services.ts';
import { listInterfaces, ifindexOf } from '../system/interfaces.ts';
import { patchConfig } from '../config/patch.ts';
import { probeForeignDhcp } from '../dhcp/probe.ts';
import { ccError } from '../errors/cc-error.ts';

/** How long the Setup screen's probe listens for other DHCP servers. */
const SETUP_PROBE_MS = 3000;

/** Build the control for one running appliance; `lab` is read live (it starts after the admin plane). */
export function systemControl(ctx: CoreContext, network: NetworkServices, machine: MachineView, lab: () => Plugin | null): SystemControl {
  return {
    services: () => [
      { name: 'admin', state: 'running', detail: `${ctx.config.admin.host}:${ctx.config.admin.port}` },
      ...network.statuses(),
      ...(lab() ? [{ name: 'lab', state: 'running' as const, detail: `simulated rack of ${ctx.config.lab?.nodes ?? 0}` }] : []),
    ],
    interfaces: async () => listInterfaces(),
    probe: async (iface) => {
      const ifindex = ifindexOf(iface);
      if (ifindex === null) throw ccError('CC_ERR_IFACE_NOT_FOUND', iface);
      return probeForeignDhcp({ iface, ifindex, timeoutMs: SETUP_PROBE_MS });
    },
    // The same validation as start-up, over the config in force: every other flag keeps its value.
    apply: async (req) => network.apply(patchConfig(ctx.config, { network: req }, machine)),
    stopNetwork: () => network.stopUdp(),
  };
}
