/**
 * Reinstall and "boot into discovery again" (unbind) through the BMC when the node has one: power cycle with
 * PXE as the next boot device (once), so an installed, hung or powered-off machine needs nobody at its console.
 * Without a BMC the agent does it as before (a reinstall reboots at the agent's next check-in; an installed
 * node boots the microkernel at its next boot). A BMC that fails is a warning on that node: the state change
 * itself was made and stays.
 */
import type { BulkResult } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { powerNodes } from './power-actions.ts';
import './node-bmc-fields.ts';

/** Why the node must boot again. */
export type BootAgainWhy = 'reinstall' | 'unbind';

/** Whether each selected node runs the microkernel agent now (taken before the change: unbind needs it). */
export function agentSnapshot(ctx: CoreContext, ids: readonly number[]): Map<number, boolean> {
  return new Map(ids.map((id) => [id, Boolean(ctx.repo.get(id)?.agent_active)]));
}

/**
 * Power-cycle (PXE once) the nodes of `result` that changed and have a BMC. Unbind cycles only nodes that are
 * not in the microkernel already (there the agent just carries on in discovery).
 */
export async function bootAgainViaBmc(
  ctx: CoreContext,
  why: BootAgainWhy,
  result: BulkResult,
  hadAgent: ReadonlyMap<number, boolean>,
): Promise<BulkResult> {
  const ids = result.results
    .filter((r) => r.ok && ctx.repo.get(r.node_id)?.bmc && (why === 'reinstall' || !hadAgent.get(r.node_id)))
    .map((r) => r.node_id);
  if (ids.length === 0) return result;
  const power = await powerNodes(ctx, { node_ids: ids, action: 'cycle', boot: 'pxe', persistent: false });
  const byId = new Map(power.results.map((p) => [p.node_id, p]));
  return {
    results: result.results.map((r) => {
      const p = byId.get(r.node_id);
      if (!p) return r;
      const warnings = p.ok
        ? (p.warnings ?? []).map((w) => `BMC: ${w}`)
        : [
            `the BMC power cycle failed: ${p.reason ?? p.code}; reboot the node by hand (it boots ${why === 'reinstall' ? 'its installer' : 'the microkernel'} then)`,
          ];
      return { ...r, ...(warnings.length ? { warnings } : {}) };
    }),
  };
}
