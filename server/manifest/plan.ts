/**
 * What importing a manifest would do, row by row: create an expected record, update the record the row
 * matches, or stop at a conflict for the operator (docs/identity.md 1: a row whose serial and MAC point at
 * different records, or that contradicts the record it matches). Pure over a `PlanWorld`, so the preview
 * and the import (which plans again under the core lock) decide the same way.
 */
import type { ManifestLink, ManifestPlan, ManifestRowResult } from '../../contract/index.ts';
import type { ManifestFile, ManifestRow } from './rows.ts';

/** A record as planning sees it. */
export interface PlanNode {
  id: number;
  state: string;
  macs: string[];
  uuid: string | null;
  serial: string | null;
  hostname: string | null;
  metadata: Record<string, unknown>;
  ip_reserved?: string | null;
  policy: string | null;
  manifest?: ManifestLink;
}

/** What planning reads of the appliance. */
export interface PlanWorld {
  /** Records holding any of these identifiers. */
  candidates(macs: string[], uuid: string | null, serial: string | null): PlanNode[];
  policyExists(name: string): boolean;
  /** The record whose static address is `ip`. */
  ipHolder(ip: string): number | null;
  /** The MAC holding a DHCP reservation of `ip`. */
  reservedTo(ip: string): string | null;
  /** Why `ip` cannot be reserved here (outside the served subnets, the appliance's own); null when it can or DHCP is not full. */
  ipProblem(ip: string): string | null;
  /** A record already called `hostname`. */
  hostnameHolder(hostname: string): number | null;
}

/** A planned row and the record it applies to (null: a new expected record). */
export interface PlannedRow {
  input: ManifestRow;
  result: ManifestRowResult;
  target: PlanNode | null;
}

const label = (r: ManifestRow) => r.serial ?? r.macs[0] ?? r.uuid ?? `row ${r.row}`;

/** Where each identifier of the row lives, when more than one record holds them. */
function spread(r: ManifestRow, matched: PlanNode[]): string {
  const parts: string[] = [];
  for (const n of matched) {
    const what = [
      ...(r.serial && n.serial === r.serial ? [`serial ${r.serial}`] : []),
      ...(r.uuid && n.uuid === r.uuid ? [`uuid ${r.uuid}`] : []),
      ...r.macs.filter((m) => n.macs.includes(m)).map((m) => `mac ${m}`),
    ];
    parts.push(`${what.join(', ')} ${what.length > 1 ? 'are' : 'is'} node ${n.id}'s`);
  }
  return parts.join('; ');
}

/** The changes a row makes to a record, in words (empty: unchanged). */
function changesTo(r: ManifestRow, n: PlanNode): string[] {
  const c: string[] = [];
  if (r.hostname && r.hostname !== n.hostname) c.push(`hostname ${r.hostname}${n.hostname ? ` (was ${n.hostname})` : ''}`);
  if (r.serial && !n.serial) c.push(`serial ${r.serial}`);
  if (r.uuid && !n.uuid) c.push(`uuid ${r.uuid}`);
  for (const m of r.macs) if (!n.macs.includes(m)) c.push(`adds mac ${m}`);
  if (r.ip && r.ip !== (n.ip_reserved ?? null)) c.push(`static address ${r.ip}${n.ip_reserved ? ` (was ${n.ip_reserved})` : ''}`);
  for (const [k, v] of Object.entries(r.metadata)) if (n.metadata[k] !== v) c.push(`metadata ${k}=${String(v).slice(0, 40)}`);
  const m = n.manifest;
  if (r.policy !== (m?.policy ?? null) && r.policy) c.push(`policy ${r.policy}`);
  if (r.bmc_address && r.bmc_address !== (m?.bmc_address ?? null)) c.push(`BMC address ${r.bmc_address}`);
  return c;
}

/** Plan one row against the world. */
function planRow(r: ManifestRow, w: PlanWorld): PlannedRow {
  const result: ManifestRowResult = {
    row: r.row,
    action: 'error',
    node_id: null,
    label: label(r),
    hostname: r.hostname,
    changes: [],
    problems: [...r.problems],
    warnings: [...r.warnings],
  };
  const out: PlannedRow = { input: r, result, target: null };
  if (r.policy && !w.policyExists(r.policy))
    result.problems.push(`no policy named "${r.policy}": create it first, or leave the cell empty`);
  if (result.problems.length) return out;

  const matched = w.candidates(r.macs, r.uuid, r.serial);
  if (matched.length > 1) {
    result.action = 'conflict';
    result.problems.push(`${spread(r, matched)}: merge those records first (node page, "merge"), or fix the row`);
    return out;
  }
  const n = matched[0] ?? null;
  if (n && r.serial && n.serial && n.serial !== r.serial)
    result.problems.push(`node ${n.id} has serial ${n.serial}, the row says ${r.serial}`);
  if (n && r.uuid && n.uuid && n.uuid !== r.uuid) result.problems.push(`node ${n.id} has uuid ${n.uuid}, the row says ${r.uuid}`);
  if (r.ip) {
    const holder = w.ipHolder(r.ip);
    if (holder !== null && holder !== n?.id) result.problems.push(`${r.ip} is already the static address of node ${holder}`);
    const mac = w.reservedTo(r.ip);
    if (mac && !r.macs.includes(mac) && !n?.macs.includes(mac))
      result.problems.push(`${r.ip} is reserved in DHCP for ${mac}, another machine`);
    const why = w.ipProblem(r.ip);
    if (why) result.warnings.push(`${r.ip}: ${why}; no DHCP reservation, the OS still gets the address (node.ip_reserved)`);
  }
  if (result.problems.length) {
    result.action = 'conflict';
    return out;
  }
  if (r.hostname) {
    const h = w.hostnameHolder(r.hostname);
    if (h !== null && h !== n?.id) result.warnings.push(`node ${h} is also called ${r.hostname}`);
  }
  out.target = n;
  result.node_id = n?.id ?? null;
  if (!n) {
    result.action = 'create';
    result.changes = [
      'expected machine (waits for it to boot)',
      ...(r.hostname ? [`hostname ${r.hostname}`] : []),
      ...(r.ip ? [`static address ${r.ip}`] : []),
      ...(r.policy ? [`policy ${r.policy}`] : []),
      ...(r.bmc_address ? [`BMC address ${r.bmc_address}`] : []),
      ...Object.entries(r.metadata).map(([k, v]) => `metadata ${k}=${String(v).slice(0, 40)}`),
    ];
    return out;
  }
  result.changes = changesTo(r, n);
  result.action = result.changes.length ? 'update' : 'unchanged';
  if (r.policy && n.policy && n.policy !== r.policy)
    result.warnings.push(`node ${n.id} is bound to policy ${n.policy}: the manifest's ${r.policy} applies after an unbind`);
  return out;
}

/** Plan a whole manifest. */
export function planManifest(file: ManifestFile, w: PlanWorld): { plan: ManifestPlan; rows: PlannedRow[] } {
  const rows = file.rows.map((r) => planRow(r, w));
  const counts = { create: 0, update: 0, unchanged: 0, conflict: 0, error: 0 };
  for (const r of rows) counts[r.result.action]++;
  return { plan: { applied: false, columns: file.columns, counts, rows: rows.map((r) => r.result) }, rows };
}
