/**
 * A node's BMC as a bulk-power job: the driver is built from the stored record just before use (the
 * password is opened then and never kept), and trust on first use stores the pinned certificate on the
 * node (durably, with a `bmc.tls_pinned` event).
 */
import type { BootMode, PowerState } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcTarget, type BmcRecord } from './bmc-record.ts';
import type { BmcTimings, BootRequest } from './driver.ts';
import { createDriver, type DriverDeps } from './drivers.ts';
import type { PowerJob } from './bulk-power.ts';
import './node-bmc-fields.ts';

/** Extra driver dependencies for tests (a CA for `verify`, an ipmitool elsewhere); none in production. */
export type NodeDriverDeps = Omit<DriverDeps, 'timings' | 'onPinned'>;

/** The firmware mode of a node's boot override: how it booted (uefi/bios), else none (the firmware's own). */
export function bootModeOf(node: NodeDoc): BootMode | undefined {
  return node.boot_mode === 'uefi' ? 'uefi' : node.boot_mode === 'bios' ? 'legacy' : undefined;
}

/** The job for one node with a BMC; `boot` gets the node's own mode unless the request named one. */
export function nodePowerJob(
  ctx: CoreContext,
  node: NodeDoc & { bmc: BmcRecord },
  timings: BmcTimings,
  boot?: Omit<BootRequest, 'mode'> & { mode?: BootMode },
  deps: NodeDriverDeps = {},
): PowerJob {
  const rec = node.bmc;
  return {
    node_id: node.id,
    mac: node.boot_mac,
    ...(boot ? { boot: { ...boot, mode: boot.mode ?? bootModeOf(node) } } : {}),
    open: () =>
      createDriver(bmcTarget(node.id, rec, ctx.secrets), {
        ...deps,
        timings,
        onPinned: (fp) => void recordPin(ctx, node.id, rec, fp).catch((e: unknown) => ctx.log.warn({ err: e }, 'storing a BMC pin failed')),
      }),
  };
}

/** Store a certificate pinned on first use, unless the node's BMC was replaced meanwhile. */
export function recordPin(ctx: CoreContext, id: number, rec: BmcRecord, fingerprint: string): Promise<void> {
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node || node.bmc !== rec || rec.tls_fingerprint) return;
    rec.tls_fingerprint = fingerprint;
    await ctx.repo.save(node);
    ctx.events.emit('bmc.tls_pinned', {
      node_id: id,
      mac: node.boot_mac,
      message: `Pinned the BMC certificate of ${rec.address}:${rec.port} on first use (SHA-256 ${fingerprint})`,
      data: { address: rec.address, port: rec.port, fingerprint },
    });
  });
}

/** Remember what a BMC reported; true when it differs from the state stored before (not durable: it is re-read). */
export function recordPower(ctx: CoreContext, id: number, state: PowerState): { changed: boolean; before: PowerState | null } {
  const node = ctx.repo.get(id);
  if (!node?.bmc) return { changed: false, before: null };
  const before = node.power?.state ?? null;
  node.power = { state, checked_at: ctx.now().toISOString() };
  ctx.repo.touch(node);
  return { changed: before !== state, before };
}
