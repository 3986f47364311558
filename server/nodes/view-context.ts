/** What node views need from the running core, read once per request (the microkernel check touches the disk). */
import type { CoreContext } from '../core/context.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { microkernelLabel } from '../boot/scripts.ts';
import type { NodeViewContext } from './view.ts';

/** The view context now: approval setting, live reservations, the microkernel served now. */
export function viewContext(ctx: CoreContext): NodeViewContext {
  const mk = findMicrokernel(ctx.config.dataDir, ctx.config.microkernelDir);
  return {
    approval_required: ctx.settings.get().approval_required,
    reservationFor: (mac) => ctx.reservations.reservationFor(mac),
    microkernel: mk ? microkernelLabel(mk.version) : null,
  };
}
