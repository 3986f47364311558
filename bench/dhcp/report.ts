/** Markdown for the DHCP bench: one summary table across configurations, then every step. */
import type { BenchConfig, Step, Sweep } from './sweep.ts';

const f = (n: number | null | undefined, d = 0) => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(d));

/** The step of `sw` at `target`, if it ran. */
const at = (sw: Sweep | undefined, target: number): Step | undefined => sw?.steps.find((s) => s.target === target);

/** The first step above the best that dropped. */
const firstDrop = (sw: Sweep): Step | undefined => sw.steps.find((s) => !s.clean && s.target > (sw.best?.target ?? 0));

/** Server CPU (user + system, all threads) per completed DORA, median over the clean steps, in µs. */
export function cpuPerDora(sw: Sweep | undefined): number | null {
  const xs = (sw?.steps ?? [])
    .filter((s) => s.clean && s.cpuUsPerDora !== null)
    .map((s) => s.cpuUsPerDora!)
    .sort((a, b) => a - b);
  return xs.length ? xs[Math.floor(xs.length / 2)]! : null;
}

/**
 * Ours / Kea server CPU per DORA at the rates both ran, median over those rates (dropping steps included: both
 * were offered the same load). Fairer than comparing medians of clean steps, which may sit at different rates,
 * and the cost per DORA falls as the rate rises.
 */
export function cpuRatioAtEqualRates(ours: Sweep | undefined, kea: Sweep | undefined): number | null {
  const rs: number[] = [];
  for (const s of ours?.steps ?? []) {
    const k = at(kea, s.target);
    if (s.cpuUsPerDora !== null && k?.cpuUsPerDora) rs.push(s.cpuUsPerDora / k.cpuUsPerDora);
  }
  rs.sort((a, b) => a - b);
  return rs.length ? rs[Math.floor(rs.length / 2)]! : null;
}

/** One configuration's results. */
export interface ConfigResult {
  cfg: BenchConfig;
  sweeps: Sweep[];
}

/** The summary: Crashcart next to Kea in every configuration, as ratios. */
export function summaryTable(results: ConfigResult[]): string {
  const lines = [
    '| configuration | Crashcart zero-drop DORA/s | p50 / p99 there (ms) | Kea zero-drop DORA/s | Kea p50 / p99 at the same rate (ms) | ratio (ours / Kea) | server CPU per DORA, ours / Kea (µs) | CPU per DORA at equal rates, ours / Kea (median) | others (zero-drop DORA/s) |',
    '|---|---:|---|---:|---|---:|---|---:|---|',
  ];
  for (const { cfg, sweeps } of results) {
    const ours = sweeps.find((s) => s.server === 'Crashcart');
    const kea = sweeps.find((s) => s.server === 'Kea (memfile)');
    const others = sweeps.filter((s) => s !== ours && s !== kea).map((s) => `${s.server} ${f(s.best?.target)}`);
    const keaThere = ours?.best ? at(kea, ours.best.target) : undefined;
    const ratio = ours?.best && kea?.best ? `${(ours.best.target / kea.best.target).toFixed(2)}x` : 'n/a';
    const cpuRatio = cpuRatioAtEqualRates(ours, kea);
    lines.push(
      `| ${cfg.name} | ${f(ours?.best?.target)} | ${f(ours?.best?.p50, 2)} / ${f(ours?.best?.p99, 2)} | ${f(kea?.best?.target)} | ${keaThere ? `${f(keaThere.p50, 2)} / ${f(keaThere.p99, 2)}${keaThere.clean ? '' : ' (dropped)'}` : 'n/a'} | ${ratio} | ${f(cpuPerDora(ours))} / ${f(cpuPerDora(kea))} | ${cpuRatio === null ? 'n/a' : `${cpuRatio.toFixed(2)}x`} | ${others.join(', ') || '-'} |`,
    );
  }
  return lines.join('\n');
}

/** Per configuration: each server's best and first dropping step, then every step. */
export function detail(results: ConfigResult[]): string {
  const out: string[] = [];
  for (const { cfg, sweeps } of results) {
    out.push(`#### ${cfg.name}`, '');
    out.push(
      '| server | zero-drop DORA/s | p50 / p99 there (ms) | drops start at (target: achieved, drops/sent) | CPU per DORA (µs) | notes |',
      '|---|---:|---|---|---:|---|',
    );
    for (const s of sweeps) {
      const d = firstDrop(s);
      out.push(
        `| ${s.server} | ${f(s.best?.target)} | ${f(s.best?.p50, 2)} / ${f(s.best?.p99, 2)} | ${d ? `${d.target}: ${f(d.rate)}, ${d.drops}/${d.sent}` : 'no drops in sweep'} | ${f(cpuPerDora(s))} | ${s.note} |`,
      );
    }
    out.push('');
    for (const s of sweeps)
      out.push(
        `- ${s.server}: ${s.steps
          .map(
            (p) =>
              `${p.target}->${f(p.rate)} (${p.drops}/${p.sent}${p.drops ? `, full buffer: perfdhcp ${p.clientRcvbufDrops}, server ${p.serverRcvbufDrops}` : ''}, ${f(p.p50, 1)}/${f(p.p99, 1)} ms, p99 DO ${f(p.p99Do, 1)} RA ${f(p.p99Ra, 1)}, ${f(p.cpuUsPerDora)} µs${p.coresBusy.length ? `, CPUs ${p.coresBusy.join('/')} %` : ''})`,
          )
          .join('; ')}`,
      );
    out.push('');
  }
  return out.join('\n');
}
