/** Node actions (bind, approve, unbind, reinstall, reboot, poweroff, forget, merge, keep apart) over the admin API. */
import type { BulkResult, Policy } from '../../../contract/admin.ts';
import type { Node } from '../../../contract/node.ts';
import { call } from './client.ts';

/** Actions that take only a node selection. */
export type NodeAction = 'approve' | 'unbind' | 'reinstall' | 'reboot' | 'poweroff' | 'forget';

/** Bind nodes to a policy; per-node outcome. */
export function bindNodes(nodeIds: number[], policy: string, confirmCount?: number): Promise<BulkResult> {
  return call('POST /api/v1/nodes/bind', {
    body: { node_ids: nodeIds, policy, ...(confirmCount !== undefined ? { confirm_count: confirmCount } : {}) },
  });
}

/** Run one of the selection actions; per-node outcome. */
export function runNodeAction(action: NodeAction, nodeIds: number[]): Promise<BulkResult> {
  return call(`POST /api/v1/nodes/${action}`, { body: { node_ids: nodeIds } });
}

/** The operator says `from` is the same machine as `into`: `from` is folded in and deleted. */
export function mergeNodes(into: number, from: number): Promise<Node> {
  return call('POST /api/v1/nodes/merge', { body: { into, from } });
}

/** The operator says `id` and `other` are different machines: their conflicts are dismissed. */
export function keepApart(id: number, other: number): Promise<Node> {
  return call('POST /api/v1/nodes/:id/conflicts/dismiss', { params: { id }, body: { node_id: other } });
}

/** Policies in priority order. */
export async function listPolicies(): Promise<Policy[]> {
  return (await call('GET /api/v1/policies')).policies;
}

/** What the confirm dialog says per action. */
export const ACTION_TEXT: Record<NodeAction, { label: string; confirm: string; danger: boolean }> = {
  approve: { label: 'Approve', confirm: 'Approve {n} node(s) for automatic binding?', danger: false },
  unbind: { label: 'Unbind', confirm: 'Unbind {n} node(s)? They return to registered and boot the microkernel again.', danger: false },
  reinstall: { label: 'Reinstall', confirm: 'Reinstall {n} node(s)? Their disks are overwritten on the next boot.', danger: true },
  reboot: { label: 'Reboot', confirm: 'Ask the agent on {n} node(s) to reboot?', danger: false },
  poweroff: { label: 'Power off', confirm: 'Ask the agent on {n} node(s) to power off?', danger: false },
  forget: {
    label: 'Forget',
    confirm: 'Forget {n} node(s)? Their record and facts are deleted; they are rediscovered if they boot again.',
    danger: true,
  },
};
