/** The readiness table as text, for `crashcart doctor` and the block `serve` prints at start. Pure. */
import type { Readiness, ReadinessStatus } from '../../contract/readiness.ts';

const MARK: Record<ReadinessStatus, string> = { ok: 'ok', info: '--', warn: 'WARN', fail: 'FAIL' };
const MODE: Record<Readiness['mode'], string> = {
  full: 'full DHCP',
  proxy: 'proxyDHCP',
  off: 'DHCP off (TFTP and HTTP only)',
  lab: 'simulated rack',
};

/** Render `r` as lines: one per row, the fix indented under warn and fail rows, and a verdict. */
export function readinessTable(r: Readiness, title = 'Crashcart readiness'): string {
  const width = Math.max(...r.rows.map((x) => x.label.length), 8);
  const lines = [`${title} (${MODE[r.mode]}):`];
  for (const row of r.rows) {
    lines.push(`  ${MARK[row.status].padEnd(4)}  ${row.label.padEnd(width)}  ${row.detail}`);
    if (row.fix && (row.status === 'warn' || row.status === 'fail')) lines.push(`  ${''.padEnd(4)}  ${''.padEnd(width)}  fix: ${row.fix}`);
  }
  const fails = r.rows.filter((x) => x.status === 'fail').length;
  const warns = r.rows.filter((x) => x.status === 'warn').length;
  lines.push(
    r.ready
      ? `Ready${warns ? ` (${warns} warning${warns > 1 ? 's' : ''})` : ''}.`
      : `Not ready: ${fails} problem${fails > 1 ? 's' : ''} above, each with its fix.`,
  );
  return lines.join('\n') + '\n';
}
