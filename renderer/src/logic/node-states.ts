/** Colours and plain-language meaning of node states (shared by table, detail and dialogs). */
import type { NodeState } from '../../../contract/node.ts';

/** Badge colour per state: readable on light and dark backgrounds. */
export const STATE_COLOR: Record<NodeState, string> = {
  expected: '#a0a6ad',
  discovered: '#2f7de1',
  'booting-microkernel': '#0e9fb5',
  registered: '#138a72',
  bound: '#7b4fd6',
  installing: '#d9822b',
  installed: '#2e9b48',
  lost: '#7c8289',
  error: '#d03050',
};

/** One sentence per state, for tooltips and empty states. */
export const STATE_MEANING: Record<NodeState, string> = {
  expected: 'Named in the rack manifest; no machine has claimed this row yet.',
  discovered: 'Asked for a boot file; the microkernel has not registered yet.',
  'booting-microkernel': 'Loading the discovery microkernel.',
  registered: 'The agent sent its facts and checks in; ready to bind.',
  bound: 'Bound to a policy; installs on its next boot.',
  installing: 'Running the OS installer.',
  installed: 'The installer reported success.',
  lost: 'Stopped checking in.',
  error: 'Something failed; see the boot timeline.',
};

/** Colour for any state string (unknown states are grey). */
export function stateColor(s: string): string {
  return (STATE_COLOR as Record<string, string>)[s] ?? '#7c8289';
}
