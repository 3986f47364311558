/**
 * The admin plane's handle on the appliance's own services and network (the Setup screen): status,
 * NICs, probe, apply (refused while the rack cannot be served, issue 12), stop, readiness.
 */
import type { CoreContext } from '../core/context.ts';
import type { Plugin } from '../core/plugin.ts';
import type { MachineView } from '../config/network.ts';
import type { SystemControl } from '../http/routes/admin-system.ts';
import type { NetworkServices } from './network-services.ts';
import { listInterfaces, ifindexOf } from '../system/interfaces.ts';
import { patchConfig } from '../config/patch.ts';
import { probeForeignDhcp } from '../dhcp/probe.ts';
import { ccError } from '../errors/cc-error.ts';
import type { Config } from '../config/schema.ts';
import { HashCache } from '../prepare/inventory/hash-cache.ts';
import { gatherReadiness } from '../readiness/gather.ts';
import { realProbes } from '../readiness/probes.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';

/** How long the Setup screen's probe listens for other DHCP servers. */
const SETUP_PROBE_MS = 3000;

/**
 * Going live in full or proxy mode needs the x86 loaders and microkernel (issue 12): the Setup
 * screen's apply refuses without them, as `serve` does at start.
 */
async function refuseUnready(next: Config, hashes: HashCache): Promise<void> {
  if (!next.iface || next.dhcp === 'off') return;
  const r = await gatherReadiness(next, {
    probes: realProbes,
    hashes,
    root: REPO_ROOT,
    nicRequired: false,
    ports: 'skip',
    dhcpProbe: { skip: 'checked by the DHCP service' },
  });
  const missing = r.rows.filter((x) => x.status === 'fail' && (x.group === 'loaders' || x.group === 'microkernel'));
  if (missing.length > 0) throw ccError('CC_ERR_NOT_READY', missing.map((x) => `${x.label}: ${x.detail}`).join('; '), { readiness: r });
}

/** Build the control for one running appliance; `lab` is read live (it starts after the admin plane). */
export function systemControl(ctx: CoreContext, network: NetworkServices, machine: MachineView, lab: () => Plugin | null): SystemControl {
  // Loader and microkernel hashes, kept while the files are unchanged (the Setup screen polls readiness).
  const hashes = new HashCache();
  const sys: SystemControl = {
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
    apply: async (req) => {
      const next = patchConfig(ctx.config, { network: req }, machine);
      await refuseUnready(next, hashes);
      await network.apply(next);
    },
    stopNetwork: () => network.stopUdp(),
    // Ports come from our own services; the Setup screen's probe button checks the link for other servers.
    readiness: () =>
      gatherReadiness(ctx.config, {
        probes: realProbes,
        hashes,
        root: REPO_ROOT,
        nicRequired: false,
        ports: { services: sys.services() },
        dhcpProbe: { skip: "not probed here: the Setup screen's probe checks the link" },
        now: ctx.now,
      }),
  };
  return sys;
}
