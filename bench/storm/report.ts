/** The storm's tables: per run, when the rack got where, the slowest machine, failures, retries, servers' cost. */
import type { MachineResult, Timeline } from './machine.ts';

/** One storm against one server. */
export interface StormRun {
  server: string;
  reference: boolean;
  results: MachineResult[];
  wallMs: number;
  /** CPU of the simulated rack's process from power-on to its last machine (the `ip` commands it runs not counted). */
  rackCpuMs: number;
  cpuMs: number;
  peakRssMiB: number;
}

const s = (ms: number | undefined) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(1));

/** The time by which every machine finished `step` (undefined if one did not), and the median. */
function when(results: MachineResult[], step: keyof Timeline): { all: number | undefined; median: number | undefined } {
  const xs = results.map((r) => r.t[step]).filter((x): x is number => x !== undefined);
  if (xs.length === 0) return { all: undefined, median: undefined };
  xs.sort((a, b) => a - b);
  return { all: xs.length === results.length ? xs[xs.length - 1] : undefined, median: xs[Math.floor(xs.length / 2)] };
}

/** When every machine had the microkernel (the transport part), or undefined if one never did. */
export function transportMs(r: StormRun): number | undefined {
  return when(r.results, 'initrd').all;
}

/**
 * With several repetitions: every repetition's transport part, side by side, and the median ratio. The table above
 * it shows, per server, the repetition with the median transport time (a shared machine makes single runs wander).
 */
export function repsLine(reps: StormRun[][]): string {
  const cc = reps.map((rs) => rs.find((r) => !r.reference)).filter((r): r is StormRun => r !== undefined);
  const ref = reps.map((rs) => rs.find((r) => r.reference)).filter((r): r is StormRun => r !== undefined);
  const list = (xs: StormRun[]) => xs.map((r) => s(transportMs(r))).join(', ');
  const ratios = reps
    .map((rs) => {
      const a = rs.find((r) => !r.reference);
      const b = rs.find((r) => r.reference);
      const ta = a && transportMs(a);
      const tb = b && transportMs(b);
      return ta !== undefined && tb !== undefined ? tb / ta : undefined;
    })
    .filter((x): x is number => x !== undefined)
    .sort((x, y) => x - y);
  const median = ratios.length ? ratios[Math.floor(ratios.length / 2)]!.toFixed(2) : 'n/a';
  return (
    `Repetitions (transport part, s; the servers alternate): Crashcart ${list(cc)}; dnsmasq + nginx ${list(ref)}. ` +
    `Ratio per repetition ${ratios.map((x) => x.toFixed(2)).join(', ') || 'n/a'}; median ${median}.`
  );
}

/** The repetition with the median transport time (failed ones count as slowest). */
export function medianRun(runs: StormRun[]): StormRun {
  const sorted = [...runs].sort((a, b) => (transportMs(a) ?? Infinity) - (transportMs(b) ?? Infinity));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Markdown: one column per run. */
export function stormTable(runs: StormRun[]): string {
  const cc = runs.find((r) => !r.reference);
  const ref = runs.find((r) => r.reference);
  const cols = runs.map((r) => r.server);
  const rows: [string, ...string[]][] = [];
  const steps: [keyof Timeline, string][] = [
    ['dhcp', 'PXE ROM DHCP done'],
    ['tftp', 'first-stage loader (TFTP) done'],
    ['ipxe_dhcp', 'iPXE DHCP done'],
    ['script', 'boot script fetched'],
    ['kernel', 'kernel fetched'],
    ['initrd', 'initrd fetched (transport part done)'],
    ['registered', 'registered'],
    ['checkin', 'first check-in answered'],
  ];
  for (const [k, label] of steps) {
    const cells = runs.map((r) => {
      const w = when(r.results, k);
      return w.median === undefined ? '-' : `${s(w.all)} / ${s(w.median)}`;
    });
    rows.push([`all / median machine: ${label} (s)`, ...cells]);
  }
  const fail = (r: StormRun) => r.results.filter((x) => !x.ok);
  rows.push(['machines that finished', ...runs.map((r) => `${r.results.length - fail(r).length} of ${r.results.length}`)]);
  rows.push([
    'failures',
    ...runs.map((r) => {
      const f = fail(r);
      if (f.length === 0) return '0';
      const why = new Map<string, number>();
      for (const x of f) why.set(x.error ?? '?', (why.get(x.error ?? '?') ?? 0) + 1);
      return [...why].map(([e, n]) => `${n}x ${e.replace(/\|/g, '/')}`).join('; ');
    }),
  ]);
  const sum = (r: StormRun, k: 'dhcp' | 'tftp' | 'http') => r.results.reduce((n, x) => n + x.retries[k], 0);
  rows.push(['retries: DHCP / TFTP / HTTP', ...runs.map((r) => `${sum(r, 'dhcp')} / ${sum(r, 'tftp')} / ${sum(r, 'http')}`)]);
  // A machine that finished got every byte; a failed one may have none (the first machine is not always a finished one).
  rows.push([
    'bytes delivered per finished machine (MB)',
    ...runs.map((r) => ((r.results.find((x) => x.ok)?.bytes ?? 0) / 1e6).toFixed(1)),
  ]);
  rows.push(['server CPU over the storm (s)', ...runs.map((r) => (r.cpuMs / 1000).toFixed(1))]);
  rows.push(['server peak memory (MiB)', ...runs.map((r) => r.peakRssMiB.toFixed(0))]);
  // The rack is one process on the same two cores: near 100 % of one core, it, not the server, sets the pace.
  rows.push([
    'simulated rack: CPU over the storm (s), share of one core',
    ...runs.map((r) => `${(r.rackCpuMs / 1000).toFixed(1)}, ${r.wallMs > 0 ? Math.round((100 * r.rackCpuMs) / r.wallMs) : 0} %`),
  ]);
  const lines = [`| | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  if (cc && ref) {
    const a = when(cc.results, 'initrd').all;
    const b = when(ref.results, 'initrd').all;
    if (a !== undefined && b !== undefined)
      lines.push(
        '',
        `Transport part (every machine has the microkernel): Crashcart ${s(a)} s, dnsmasq + nginx ${s(b)} s: ratio ${(b / a).toFixed(2)} (above 1: Crashcart faster). ` +
          `Crashcart then has every machine registered at ${s(when(cc.results, 'registered').all)} s.`,
      );
  }
  return lines.join('\n');
}
