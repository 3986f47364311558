/** `/sys/class/dmi/id` saved as `key=value` lines (`dmi-id.txt`) -> a record. Pure. */
import { lines, splitPair } from './kv-text.ts';

/** Parse `key=value` lines; later keys win, lines without `=` are skipped. */
export function parseDmiId(text: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of lines(text)) {
    const p = splitPair(l, '=');
    if (p) o[p[0]] = p[1];
  }
  return o;
}
