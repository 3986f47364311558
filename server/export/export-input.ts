/** What every export renderer reads: the nodes with their facts and inventory, and the rack's subnet. Pure types. */
import type { Facts, Inventory, Node } from '../../contract/index.ts';

/** One node as the exports see it. */
export interface ExportNode {
  node: Node;
  facts: Facts;
  inventory: Inventory | null;
}

/** Everything a renderer needs. */
export interface ExportInput {
  nodes: readonly ExportNode[];
  /** The provisioning subnet's prefix length when the appliance knows it (full DHCP mode), for netmasks and CIDRs. */
  prefix: number | null;
  /** When the export was made (ISO 8601). */
  exportedAt: string;
}

/** The host name exports use: the node's hostname when it is a safe DNS name, else `node-ID`. */
export function exportName(n: Node): string {
  const h = n.hostname;
  // RFC 1123 2.1 host names; anything else is node text we do not hand on as a name.
  return h && /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(h) ? h : `node-${n.id}`;
}

/** A dotted netmask from a prefix length (RFC 4632 3.1). */
export function netmaskOf(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}
