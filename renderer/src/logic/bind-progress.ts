/** Progress of a bind: each node goes requested -> bound -> installing (or fails). Pure. */
import type { Node } from '../../../contract/node.ts';

/** One node's step in the bind flow. */
export type BindStep = 'requested' | 'rejected' | 'bound' | 'installing' | 'installed' | 'error';

/** A node's step given the server's answer and its current record. */
export function bindStep(answer: { ok: boolean } | undefined, node: Node | undefined): BindStep {
  if (answer && !answer.ok) return 'rejected';
  if (!node) return 'requested';
  if (node.state === 'installing') return 'installing';
  if (node.state === 'installed') return 'installed';
  if (node.state === 'error') return 'error';
  if (node.state === 'bound') return 'bound';
  return 'requested';
}

/** Percentage done: bound counts half, installing or later counts whole; rejected counts as done. */
export function bindPercent(steps: BindStep[]): number {
  if (steps.length === 0) return 0;
  const score = steps.reduce((s, st) => s + (st === 'bound' ? 0.5 : st === 'requested' ? 0 : 1), 0);
  return Math.round((score / steps.length) * 100);
}
