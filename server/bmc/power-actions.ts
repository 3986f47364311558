/**
 * POST /api/v1/nodes/power: one power action over a selection, per node like the other bulk actions. Nodes
 * without a BMC get CC_ERR_BMC_NOT_CONFIGURED; the rest go through runBulkPower with the settings' pacing,
 * each with its own boot mode (how it booted). Runs outside the core lock: a soft-off may wait minutes.
 */
import type { PowerNodeResult, PowerRequest, PowerResult } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { ccError } from '../errors/cc-error.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { BmcRecord } from './bmc-record.ts';
import { bmcTimings, bulkPacing } from './bmc-timings.ts';
import { runBulkPower, type PowerJob } from './bulk-power.ts';
import { nodePowerJob, recordPower, type NodeDriverDeps } from './node-driver.ts';

/** A refusal in the shape of a bulk result (reason = message and fix). */
function refusal(id: number, code: 'CC_ERR_NOT_FOUND' | 'CC_ERR_BMC_NOT_CONFIGURED', detail: string): PowerNodeResult {
  const e = ccError(code, detail);
  return { node_id: id, ok: false, code, reason: `${e.message} (fix: ${e.fix})` };
}

/** Check a request's combination of fields (the schema checks each one). */
export function checkPowerRequest(req: PowerRequest): void {
  if (req.boot && req.action === 'status') throw ccError('CC_ERR_BAD_REQUEST', 'boot: a status read sets no boot device; leave boot out');
  if ((req.persistent !== undefined || req.mode !== undefined) && !req.boot)
    throw ccError('CC_ERR_BAD_REQUEST', 'persistent and mode describe the boot device: give boot (pxe, disk or bios) too');
}

/** Run a power request; results in the order of `node_ids`. */
export async function powerNodes(ctx: CoreContext, req: PowerRequest, deps: NodeDriverDeps = {}): Promise<PowerResult> {
  checkPowerRequest(req);
  const s = ctx.settings.get();
  const timings = bmcTimings(s);
  const boot = req.boot ? { device: req.boot, persistent: req.persistent ?? false, mode: req.mode } : undefined;
  const results: PowerNodeResult[] = new Array(req.node_ids.length);
  const jobs: PowerJob[] = [];
  const slots: number[] = [];
  req.node_ids.forEach((id, i) => {
    const node = ctx.repo.get(id);
    if (!node) results[i] = refusal(id, 'CC_ERR_NOT_FOUND', `node ${id}`);
    else if (!node.bmc) results[i] = refusal(id, 'CC_ERR_BMC_NOT_CONFIGURED', `node ${id}`);
    else {
      jobs.push(nodePowerJob(ctx, node as NodeDoc & { bmc: BmcRecord }, timings, boot, deps));
      slots.push(i);
    }
  });
  const done = await runBulkPower(jobs, { action: req.action, ...bulkPacing(s), events: ctx.events });
  done.forEach((r, k) => {
    results[slots[k]!] = r;
    if (r.ok && r.power) recordPower(ctx, r.node_id, r.power);
  });
  return { results };
}
