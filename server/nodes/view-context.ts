/** What node views need from the running core, read once per request (the microkernel check touches the disk). */
import type { CoreContext } from '../core/context.ts';
import { findMicrokernelFor, type MkArch } from '../boot/microkernel-select.ts';
import { microkernelLabel } from '../boot/scripts.ts';
import type { NodeViewContext } from './view.ts';
import { describeBootChain } from './boot-settings.ts';

/** The view context now: approval setting, live reservations, the microkernel served now to each architecture, boot chains. */
export function viewContext(ctx: CoreContext): NodeViewContext {
  const served = new Map<MkArch, string | null>(); // each architecture's folder read at most once per request
  const microkernelFor = (arch: MkArch): string | null => {
    if (!served.has(arch)) {
      const mk = findMicrokernelFor(ctx.config.dataDir, ctx.config.microkernelDir, arch);
      served.set(arch, mk ? microkernelLabel(mk.version) : null);
    }
    return served.get(arch)!;
  };
  return {
    approval_required: ctx.settings.get().approval_required,
    reservationFor: (mac) => ctx.reservations.reservationFor(mac),
    microkernelFor,
    bootChainOf: (d) => describeBootChain(ctx, d),
  };
}
