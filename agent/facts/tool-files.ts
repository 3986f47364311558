/**
 * The saved tool outputs the agent works from, live or replayed. File names are the replay contract
 * (`crashcart-agent --from DIR`, `crashcart-agent collect DIR`); they come from the collector table
 * (agent/collect/collectors.ts).
 */
import type { Inventory } from '../../contract/node.ts';
import { COLLECTORS, nicFilePattern, type CollectorKey } from '../collect/collectors.ts';

/** Collector failure as the inventory reports it. */
export type CollectorError = Inventory['collector_errors'][number];

/** Raw outputs by file name plus the failures met while getting them. */
export interface ToolOutputs {
  files: Map<string, string>;
  errors: CollectorError[];
}

/** The first present, non-blank output of a collector. */
export function toolText(out: ToolOutputs, key: CollectorKey): string | undefined {
  for (const f of COLLECTORS[key].files) {
    const t = out.files.get(f);
    if (t !== undefined && t.trim() !== '') return t;
  }
  return undefined;
}

/** Every saved output of a per-NIC collector, by NIC name. */
export function perNicTexts(out: ToolOutputs, key: CollectorKey): Map<string, string> {
  const m = new Map<string, string>();
  const patterns = COLLECTORS[key].files.map(nicFilePattern);
  for (const [f, t] of out.files) {
    for (const re of patterns) {
      const x = re.exec(f);
      if (x?.[1] !== undefined) m.set(x[1], t);
    }
  }
  return m;
}
