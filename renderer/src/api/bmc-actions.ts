/** BMC power and boot control over the admin API (docs/bmc.md): a node's BMC and bulk power actions. */
import type { BmcInput, BootDevice, PowerAction, PowerResult } from '../../../contract/bmc.ts';
import type { NodeFromBmcAnswer } from '../../../contract/bmc-expected.ts';
import type { Node } from '../../../contract/node.ts';
import { call } from './client.ts';

/** The power actions the UI offers (`soft-off` is left to the CLI: `off` already asks the OS first). */
export type UiPowerAction = Exclude<PowerAction, 'soft-off'>;

/** Run a power action on nodes; `boot` sets the next boot device (once unless `persistent`). */
export function powerNodes(nodeIds: number[], action: UiPowerAction, boot: BootDevice | null): Promise<PowerResult> {
  return call('POST /api/v1/nodes/power', { body: { node_ids: nodeIds, action, ...(boot ? { boot } : {}) } });
}

/** Set a node's BMC; a missing password keeps the stored one. */
export function setBmc(id: number, input: BmcInput): Promise<Node> {
  return call('PUT /api/v1/nodes/:id/bmc', { params: { id }, body: input });
}

/** Remove a node's BMC. */
export function clearBmc(id: number): Promise<Node> {
  return call('DELETE /api/v1/nodes/:id/bmc', { params: { id } });
}

/** Use the credentials the agent enrolled in-band, at the reported address or the one given. */
export function acceptBmc(id: number, address: string | null): Promise<Node> {
  return call('POST /api/v1/nodes/:id/bmc/accept', { params: { id }, body: address ? { address } : {} });
}

/** A machine never seen: read its identifiers from its BMC and keep an expected record carrying the BMC. */
export function nodeFromBmc(bmc: BmcInput, hostname: string | null): Promise<NodeFromBmcAnswer> {
  return call('POST /api/v1/nodes/from-bmc', { body: { bmc, ...(hostname ? { hostname } : {}) } });
}

/** An expected (manifest) record with a BMC set takes the identifiers its BMC gives. */
export function identifyBmc(id: number): Promise<NodeFromBmcAnswer> {
  return call('POST /api/v1/nodes/:id/bmc/identify', { params: { id }, body: {} });
}

/** Ask the node's agent to enrol its BMC in-band at its next check-in. */
export function enrolBmc(id: number): Promise<Node> {
  return call('POST /api/v1/nodes/:id/bmc/enrol', { params: { id }, body: {} });
}

/** Button text and confirmation per power action; `pxe` says whether "PXE once" applies to it. */
export const POWER_TEXT: Record<UiPowerAction, { label: string; confirm: string | null; pxe: boolean }> = {
  on: { label: 'Power on', confirm: null, pxe: true },
  off: { label: 'Power off', confirm: 'Power off {n} node(s)? The OS is asked first, then the power is cut.', pxe: false },
  cycle: { label: 'Power cycle', confirm: 'Power cycle {n} node(s)? Whatever runs on them stops.', pxe: true },
  reset: { label: 'Reset', confirm: 'Hard reset {n} node(s)? Whatever runs on them stops without warning.', pxe: true },
  status: { label: 'Check power', confirm: null, pxe: false },
};

/** One line saying how a power request went: done, failed (first reason), warnings (first one). */
export function powerSummary(action: UiPowerAction, r: PowerResult): { ok: boolean; text: string } {
  const bad = r.results.filter((x) => !x.ok);
  const warned = r.results.filter((x) => (x.warnings?.length ?? 0) > 0);
  const label = POWER_TEXT[action].label;
  if (bad.length > 0)
    return { ok: false, text: `${label}: ${bad.length} of ${r.results.length} failed — ${bad[0]?.reason ?? bad[0]?.code ?? ''}` };
  const warn = warned[0]?.warnings?.[0];
  return { ok: true, text: `${label}: ${r.results.length} node(s) done${warn ? ` (warning: ${warn})` : ''}` };
}
