/** Filtering, facets and sorting of the node table: pure functions over Node[]. */
import type { Node } from '../../../contract/node.ts';

/** Selected facet values (empty = no restriction). */
export interface Facets {
  states: string[];
  vendors: string[];
  tags: string[];
  /** Power facet values (see powerLabel); absent = no restriction. */
  power?: string[];
  /** Only nodes discovered by an older microkernel than the one installed now. */
  outdatedMicrokernel?: boolean;
}

/** Sortable columns. */
export type SortKey =
  | 'id'
  | 'state'
  | 'hostname'
  | 'vendor'
  | 'serial'
  | 'cpu'
  | 'memory'
  | 'disks'
  | 'nics'
  | 'bmc'
  | 'power'
  | 'boot_mode'
  | 'policy'
  | 'last_seen';

/** Sort direction. */
export type SortDir = 'asc' | 'desc';

/** The vendor/model label of a node. */
export function vendorModel(n: Node): string {
  return [n.manufacturer, n.product].filter(Boolean).join(' ');
}

/** The power column and facet value: the BMC's last report, or why there is none. */
export function powerLabel(n: Node): string {
  if (!n.bmc) return 'no BMC';
  return n.power?.state ?? 'not checked';
}

function haystack(n: Node): string {
  return [
    n.id,
    n.hostname,
    n.state,
    n.serial,
    n.manufacturer,
    n.product,
    n.ip,
    n.uuid,
    n.policy,
    n.summary.bmc_ip,
    n.summary.cpu_model,
    n.microkernel_version,
    n.agent_version,
    ...n.macs,
    ...n.tags,
  ]
    .filter((v) => v !== null && v !== undefined)
    .join(' ')
    .toLowerCase();
}

/** Does the node match every word of the free-text query? */
export function matchesText(n: Node, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const h = haystack(n);
  return words.every((w) => h.includes(w));
}

/** Apply text and facets. */
export function filterNodes(nodes: readonly Node[], query: string, f: Facets): Node[] {
  const states = new Set(f.states);
  const vendors = new Set(f.vendors);
  const power = new Set(f.power ?? []);
  return nodes.filter(
    (n) =>
      (states.size === 0 || states.has(n.state)) &&
      (vendors.size === 0 || vendors.has(n.manufacturer ?? '(unknown)')) &&
      (f.tags.length === 0 || f.tags.every((t) => n.tags.includes(t))) &&
      (power.size === 0 || power.has(powerLabel(n))) &&
      (!f.outdatedMicrokernel || n.microkernel_outdated) &&
      matchesText(n, query),
  );
}

/** Value counts for each facet, for the facet pickers. */
export function facetCounts(nodes: readonly Node[]): {
  states: Map<string, number>;
  vendors: Map<string, number>;
  tags: Map<string, number>;
  power: Map<string, number>;
} {
  const states = new Map<string, number>();
  const vendors = new Map<string, number>();
  const tags = new Map<string, number>();
  const power = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const n of nodes) {
    inc(states, n.state);
    inc(vendors, n.manufacturer ?? '(unknown)');
    for (const t of n.tags) inc(tags, t);
    inc(power, powerLabel(n));
  }
  return { states, vendors, tags, power };
}

function sortValue(n: Node, key: SortKey): string | number | null {
  switch (key) {
    case 'id':
      return n.id;
    case 'state':
      return n.state;
    case 'hostname':
      return n.hostname;
    case 'vendor':
      return vendorModel(n) || null;
    case 'serial':
      return n.serial;
    case 'cpu':
      return n.summary.cpu_count;
    case 'memory':
      return n.summary.memory_mb;
    case 'disks':
      return n.summary.disk_total_bytes;
    case 'nics':
      return n.summary.nic_count;
    case 'bmc':
      return n.summary.bmc_ip;
    case 'power':
      return n.bmc ? powerLabel(n) : null;
    case 'boot_mode':
      return n.boot_mode;
    case 'policy':
      return n.policy;
    case 'last_seen':
      return n.last_seen ? Date.parse(n.last_seen) : null;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Stable sort; empty values always last. */
export function sortNodes(nodes: Node[], key: SortKey, dir: SortDir): Node[] {
  const sign = dir === 'asc' ? 1 : -1;
  return nodes
    .map((n) => ({ n, v: sortValue(n, key) }))
    .sort((a, b) => {
      if (a.v === null || a.v === '') return b.v === null || b.v === '' ? a.n.id - b.n.id : 1;
      if (b.v === null || b.v === '') return -1;
      const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
      return c === 0 ? a.n.id - b.n.id : sign * c;
    })
    .map((x) => x.n);
}
