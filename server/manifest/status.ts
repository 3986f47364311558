/** Where the rack stands against its manifest: who is still expected, who arrived, who nobody expected. Pure. */
import type { ManifestStatus } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';
import '../nodes/operator-fields.ts';

/** Which manifest group a record falls in. */
export type ManifestGroup = 'waiting' | 'arrived' | 'unexpected';

/** The group of one record; `unexpected` means only "no manifest row names it". */
export function manifestGroup(d: Pick<NodeDoc, 'manifest'>): ManifestGroup {
  if (!d.manifest) return 'unexpected';
  return d.manifest.claimed_at === null ? 'waiting' : 'arrived';
}

/** Counts over every record; `unexpected` counts only once some manifest was imported. */
export function manifestStatus(nodes: readonly NodeDoc[]): ManifestStatus {
  const s = { waiting: 0, arrived: 0, unexpected: 0, mismatched: 0 };
  for (const d of nodes) {
    s[manifestGroup(d)]++;
    if ((d.manifest?.mismatch.length ?? 0) > 0) s.mismatched++;
  }
  if (s.waiting + s.arrived === 0) s.unexpected = 0;
  return s;
}
