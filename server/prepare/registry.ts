/**
 * The registry of what `crashcart prepare` makes ready: every first-stage loader, the microkernel
 * of each requested architecture, each requested disk image, in that order (the x86 loaders a rack
 * cannot do without first). Later artifacts are one more entry here. `runPrepare` runs them in
 * order (one at a time: the machine is shared, and the loaders share one download batch) and
 * returns one summary row per entry; one failing entry does not stop the others.
 */
import type { PrepareArtifact, PrepareEnv, PrepareOutcome } from './artifact.ts';
import { imageArtifact } from './image-entry.ts';
import { loaderArtifacts } from './loader-entries.ts';
import type { MicrokernelArch } from './layout.ts';
import { microkernelArtifact } from './microkernel-entry.ts';

/** What to prepare. */
export interface PrepareSelection {
  arches: readonly MicrokernelArch[];
  images: readonly string[];
}

/** The entries for a selection, in the order they run. */
export function prepareRegistry(sel: PrepareSelection): PrepareArtifact[] {
  return [...loaderArtifacts(), ...sel.arches.map(microkernelArtifact), ...sel.images.map((n) => imageArtifact(n))];
}

/** One summary row. */
export interface PrepareSummaryRow extends PrepareOutcome {
  id: string;
  label: string;
  needsRoot: boolean;
}

/** Run every entry in order; resolves with one row per entry. */
export async function runPrepare(entries: readonly PrepareArtifact[], env: PrepareEnv): Promise<PrepareSummaryRow[]> {
  const rows: PrepareSummaryRow[] = [];
  for (const e of entries) {
    const o = await e.run(env);
    rows.push({ id: e.id, label: e.label, needsRoot: e.needsRoot, ...o });
  }
  return rows;
}
