/** Words for a node's microkernel task (image-deploy, erase, burn-in): one line for the node screen. Pure. */
import type { NodeTask } from '../../../contract/agent-tasks.ts';

/** "write 42% · 85.3 MB/s · ETA 1 min 10 s · vda", or the outcome. */
export function taskLine(t: NodeTask): string {
  if (t.status === 'failed') return `${t.task} failed (${t.failure?.code ?? 'unknown'}): ${t.failure?.message ?? ''}`;
  if (t.status === 'succeeded') return `${t.task} done`;
  if (t.status === 'written') return `${t.task}: image written, waiting for the installed system to call back`;
  const p = t.progress;
  if (!p) return `${t.task}: starting`;
  const parts = [`${p.phase} ${p.percent.toFixed(p.percent < 10 ? 1 : 0)}%`];
  if (p.mbps > 0) parts.push(`${p.mbps} MB/s`);
  if (p.eta_s !== null && p.percent < 100) parts.push(`ETA ${duration(p.eta_s)}`);
  if (p.resumes) parts.push(`${p.resumes} resumed`);
  if (p.detail) parts.push(p.detail);
  return parts.join(' · ');
}

/** Seconds as "1 h 2 min", "3 min 5 s", "12 s". */
export function duration(s: number): string {
  const r = Math.max(0, Math.round(s));
  if (r >= 3600) return `${Math.floor(r / 3600)} h ${Math.floor((r % 3600) / 60)} min`;
  if (r >= 60) return `${Math.floor(r / 60)} min ${r % 60} s`;
  return `${r} s`;
}

/** One line per erased disk or burn-in figure, for the node screen (empty for a deploy). */
export function resultLines(t: NodeTask): { text: string; ok: boolean }[] {
  const r = t.result;
  const mib = (b: number): string => `${Math.round(b / 1048576)} MiB`;
  if (r?.kind === 'erase')
    return r.disks.map((d) => ({
      text: `${d.name} (${mib(d.size)}${d.serial ? `, ${d.serial}` : ''}): ${d.ok ? d.method : 'NOT erased'}, ${d.seconds} s — ${d.note}`,
      ok: d.ok,
    }));
  if (r?.kind === 'burn-in')
    return [
      { text: `CPU: ${r.cpu.workers} workers, ${r.cpu.bogo_ops} operations, ${r.cpu.failures} failures`, ok: r.cpu.failures === 0 },
      { text: `Memory: ${mib(r.memory.bytes)} tested, ${r.memory.failures} failures`, ok: r.memory.failures === 0 },
      ...r.disks.map((d) => ({
        text: `${d.name}: read ${mib(d.read_bytes)} at ${d.read_mbps} MB/s, ${d.errors} errors`,
        ok: d.errors === 0,
      })),
    ];
  return [];
}
