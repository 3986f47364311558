/** Facts and inventory as a tree (naive-ui TreeOption shape) with search. Pure. */

/** One tree node; leaves carry the flat fact they came from, when there is one. */
export interface FactNode {
  key: string;
  label: string;
  children?: FactNode[];
  isLeaf: boolean;
  /** Flat fact name (only under "facts": the names tag rules read). */
  fact?: string;
  value?: string | number | boolean | null;
}

function leafLabel(name: string, v: unknown): string {
  return `${name} = ${v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v)}`;
}

function fromValue(name: string, key: string, v: unknown): FactNode {
  if (Array.isArray(v)) {
    return { key, label: `${name} [${v.length}]`, isLeaf: false, children: v.map((x, i) => fromValue(`${i}`, `${key}.${i}`, x)) };
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return { key, label: name, isLeaf: false, children: entries.map(([k, x]) => fromValue(k, `${key}.${k}`, x)) };
  }
  return { key, label: leafLabel(name, v), isLeaf: true };
}

/** Build the two roots: flat facts (sorted) and the structured inventory. */
export function buildFactsTree(facts: Record<string, string | number | boolean | null>, inventory: unknown): FactNode[] {
  const flat: FactNode[] = Object.keys(facts)
    .sort()
    .map((k) => ({ key: `f:${k}`, label: leafLabel(k, facts[k]), isLeaf: true, fact: k, value: facts[k] ?? null }));
  const roots: FactNode[] = [{ key: 'facts', label: `facts (${flat.length})`, isLeaf: false, children: flat }];
  if (inventory !== null && inventory !== undefined) roots.push(fromValue('inventory', 'inventory', inventory));
  return roots;
}

/** Case-insensitive match used by the tree filter. */
export function factMatches(pattern: string, node: FactNode): boolean {
  return node.label.toLowerCase().includes(pattern.trim().toLowerCase());
}

/** Count leaves matching a pattern (for "N matches"). */
export function countMatches(roots: FactNode[], pattern: string): number {
  let n = 0;
  const walk = (xs: FactNode[]): void => {
    for (const x of xs) {
      if (x.isLeaf && factMatches(pattern, x)) n++;
      if (x.children) walk(x.children);
    }
  };
  walk(roots);
  return n;
}

/** A tag rule that matches this exact fact value. */
export function ruleForFact(fact: string, value: string | number | boolean | null): unknown[] {
  return ['=', ['fact', fact], value];
}
