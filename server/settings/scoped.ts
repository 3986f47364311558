/**
 * Settings that apply per appliance, per tag and per node: the most specific layer that sets a value wins
 * (node > tag > appliance). One generic, pure resolver; each setting brings only its layers and, for two
 * tags that disagree, a ranking (docs/config.md "Scoped settings").
 */

/** Which layer decided. */
export type ScopeLayer = 'node' | 'tag' | 'appliance';

/** The candidate values of one setting for one node, most specific first. */
export interface ScopeLayers<T> {
  /** The node's own value; null or undefined = not set on the node. */
  node: T | null | undefined;
  /** Values set on the node's tags (tags that do not set the setting may be left out). */
  tags: readonly { tag: string; value: T | null | undefined }[];
  /** The appliance-wide value (always set: a default if the operator never changed it). */
  appliance: T;
}

/** The value that applies and why (shown in the UI and in events). */
export interface Resolved<T> {
  value: T;
  from: ScopeLayer;
  /** The tag that decided, when `from` is `tag`. */
  tag: string | null;
  /** Tags that set a different value and lost to `tag` (an operator may want to fix that). */
  outvoted: string[];
}

/**
 * Resolve one setting. Among tags, `rank` orders the values (lower wins; e.g. the chain that boots more
 * machines); equal ranks fall back to the tag name, so the answer never depends on the order tags were
 * evaluated in.
 */
export function resolveScoped<T>(layers: ScopeLayers<T>, rank: (v: T) => number = () => 0): Resolved<T> {
  if (layers.node !== null && layers.node !== undefined) return { value: layers.node, from: 'node', tag: null, outvoted: [] };
  const set = layers.tags.filter((t): t is { tag: string; value: T } => t.value !== null && t.value !== undefined);
  if (set.length === 0) return { value: layers.appliance, from: 'appliance', tag: null, outvoted: [] };
  const winner = [...set].sort((a, b) => rank(a.value) - rank(b.value) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))[0]!;
  const outvoted = set.filter((t) => t.value !== winner.value).map((t) => t.tag);
  return { value: winner.value, from: 'tag', tag: winner.tag, outvoted };
}

/** One line for the UI and events: `shim (tag secureboot)`, `ipxe (appliance)`. */
export function describeResolved<T>(r: Resolved<T>): string {
  const where = r.from === 'tag' ? `tag ${r.tag}` : r.from;
  const lost = r.outvoted.length ? `; tags ${r.outvoted.join(', ')} set another value` : '';
  return `${String(r.value)} (${where}${lost})`;
}
