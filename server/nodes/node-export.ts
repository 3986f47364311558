/** The inventory export: every node with its facts (JSON), or one row per node (CSV, RFC 4180). */
import type { Node } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { viewOf } from './node-query.ts';

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'id',
  'hostname',
  'state',
  'manufacturer',
  'product',
  'serial',
  'uuid',
  'boot_mac',
  'macs',
  'ip',
  'boot_mode',
  'policy',
  'tags',
  'cpu_model',
  'cpu_count',
  'memory_mb',
  'disk_count',
  'disk_total_bytes',
  'nic_count',
  'bmc_ip',
  'last_seen',
] as const;

/**
 * One CSV cell: quoted per RFC 4180, and text that a spreadsheet would run as a formula (a cell starting
 * with = + - @, tab or CR; OWASP "CSV injection") gets a leading apostrophe, so it is shown, not evaluated.
 * Node text (manufacturer, serial, hostname...) comes from the rack and may be hostile.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  if (typeof v !== 'number' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The JSON export: every node by id with its facts and inventory. */
export async function exportNodesJson(
  ctx: CoreContext,
  only: ReadonlySet<number> | null = null,
): Promise<{ exported_at: string; nodes: (Node & { facts: unknown; inventory: unknown })[] }> {
  const facts = new Map((await ctx.store.facts.find()).map((f) => [f._id, f]));
  const nodes = ctx.repo
    .all()
    .filter((d) => !only || only.has(d.id))
    .sort((a, b) => a.id - b.id)
    .map((d) => ({
      ...viewOf(ctx, d),
      facts: facts.get(String(d.id))?.facts ?? {},
      inventory: facts.get(String(d.id))?.inventory ?? null,
    }));
  return { exported_at: ctx.now().toISOString(), nodes };
}

/** The CSV export: a header row and one row per node by id, CRLF line ends. */
export function exportNodesCsv(ctx: CoreContext, only: ReadonlySet<number> | null = null): string {
  const rows = ctx.repo
    .all()
    .filter((d) => !only || only.has(d.id))
    .sort((a, b) => a.id - b.id)
    .map((d) => {
      const v = viewOf(ctx, d);
      const flat: Record<string, unknown> = { ...v, ...v.summary };
      return CSV_COLUMNS.map((c) => csvCell(flat[c])).join(',');
    });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
