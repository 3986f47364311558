/**
 * Burn-in facts (`burnin_*`) are the appliance's record of the last burn-in, kept beside what the agent
 * collects: a new burn-in replaces them all, and a later registration (which replaces the agent's facts)
 * keeps them, so a tag rule such as `burnin_passed == true` holds until the next burn-in. Pure.
 */
import type { Facts } from '../../contract/index.ts';

/** Burn-in facts at most kept (the agent's report is node text: bounded). */
export const MAX_BURNIN_FACTS = 64;

const isBurnIn = (k: string): boolean => k.startsWith('burnin_');

/** `facts` with every `burnin_*` fact replaced by `burnin` (at most MAX_BURNIN_FACTS of them). */
export function mergeBurnInFacts(facts: Facts, burnin: Record<string, string | number | boolean>): Facts {
  const out: Facts = {};
  for (const [k, v] of Object.entries(facts)) if (!isBurnIn(k)) out[k] = v;
  for (const [k, v] of Object.entries(burnin).slice(0, MAX_BURNIN_FACTS)) if (isBurnIn(k)) out[k] = v;
  return out;
}

/** A registration's facts with the stored burn-in facts kept (an agent cannot set or clear them itself). */
export function keepBurnInFacts(agentFacts: Facts, stored: Facts | undefined): Facts {
  const out: Facts = {};
  for (const [k, v] of Object.entries(agentFacts)) if (!isBurnIn(k)) out[k] = v;
  for (const [k, v] of Object.entries(stored ?? {})) if (isBurnIn(k)) out[k] = v;
  return out;
}
