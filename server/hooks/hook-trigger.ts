/**
 * Which hook event an appliance event is (pure): registered, bound, installed
 * (an install stage that reached `installed`), failed (a stage that reached
 * `error`) and lost. Everything else runs no hook.
 */
import type { CcEvent } from '../../contract/events.ts';
import type { HookEvent } from '../../contract/hooks.ts';

/** The hook event of `e`, or null. */
export function hookEventOf(e: CcEvent): HookEvent | null {
  switch (e.type) {
    case 'node.registered':
      return 'registered';
    case 'node.bound':
      return 'bound';
    case 'node.lost':
      return 'lost';
    case 'node.stage':
      return e.data.to === 'installed' ? 'installed' : e.data.to === 'error' ? 'failed' : null;
    default:
      return null;
  }
}
