/**
 * Per-phase boot timings for one guest, from the appliance's event log (host clock, ISO stamps) and the
 * guest's serial console (lines stamped with the host clock when the test read them). Recorded and
 * printed, never asserted on: CI machines are noisy.
 */
import type { CcEvent } from '../../../contract/events.ts';
import type { Guest } from './qemu.ts';

/** One measured phase: seconds from power-on at its start and end, or null when not observed. */
export interface Phase {
  name: string;
  startS: number | null;
  endS: number | null;
  note: string;
}

const sameMac = (a: string | null, b: string) => a !== null && a.toLowerCase().replace(/-/g, ':') === b.toLowerCase();

/** Build the phases of one guest's first boot (up to the first registration). */
export function bootPhases(g: Guest, nodeId: number, events: CcEvent[]): Phase[] {
  const mac = g.spec.nics[0]!.mac;
  const t = (e: CcEvent | undefined) => (e ? (Date.parse(e.ts) - g.poweredOnAt) / 1000 : null);
  const s = (line: { at: number } | undefined) => (line ? (line.at - g.poweredOnAt) / 1000 : null);
  // This power-on only: a guest booted twice (Secure Boot: refused, then the signed chain) has older events.
  const mine = events.filter((e) => (e.node_id === nodeId || sameMac(e.mac, mac)) && Date.parse(e.ts) >= g.poweredOnAt - 1000);
  const first = (pred: (e: CcEvent) => boolean) => mine.find(pred);
  const url = (e: CcEvent) => String((e.data as { url?: unknown }).url ?? '');
  const file = (e: CcEvent) => String((e.data as { file?: unknown }).file ?? '');
  // The microkernel comes over HTTP (iPXE) or TFTP (GRUB), from /mk/ or an architecture's folder (/mk/arm64/).
  const mk = (name: string) => (e: CcEvent) =>
    (e.type === 'http.transfer' && new RegExp(`/mk/(arm64/)?${name}$`).test(url(e))) ||
    (e.type === 'tftp.start' && new RegExp(`/?mk/(arm64/)?${name}$`).test(file(e)));

  const dhcpFirst = first((e) => e.type.startsWith('dhcp.') || (e.type === 'node.discovered' && /DHCP/.test(e.message)));
  const dhcpAck = first((e) => e.type === 'dhcp.ack');
  const tftpStart = first((e) => e.type === 'tftp.start');
  const tftpEnd = first((e) => e.type === 'tftp.finish');
  const script = first((e) => e.type === 'node.boot' || (e.type === 'http.transfer' && /boot/.test(url(e))));
  const mkKernel = first(mk('vmlinuz(-zstd)?')); // iPXE gets vmlinuz-zstd when the microkernel has it
  const mkInitrd = first(mk('initrd\\.img'));
  const initLine = g.serial.find(/crashcart-init: started/);
  const agentLine = g.serial.find(/crashcart-supervisor: starting agent/);
  // The agent starts beside the drivers and DHCP and waits for this (rootfs/init); older images had no such line.
  const readyLine = g.serial.find(/crashcart-init: network ready/);
  const registered = first((e) => e.type === 'node.registered');
  const checkin = first((e) => e.type === 'node.checkin');
  const tftpMs = tftpEnd ? Number((tftpEnd.data as { duration_ms?: unknown }).duration_ms ?? NaN) : NaN;

  return [
    {
      name: 'DHCP (power-on -> first DHCP exchange -> ACK)',
      startS: t(dhcpFirst),
      endS: t(dhcpAck ?? dhcpFirst),
      note: 'includes firmware POST',
    },
    {
      name: 'TFTP first-stage loader',
      startS: t(tftpStart),
      endS: t(tftpEnd),
      note: g.spec.firmware === 'bios' ? 'BIOS: QEMU ROM is iPXE already, no TFTP' : Number.isFinite(tftpMs) ? `${tftpMs} ms transfer` : '',
    },
    { name: 'boot script (iPXE /boot or GRUB per-node config)', startS: t(script), endS: t(script), note: 'first request' },
    { name: 'microkernel (vmlinuz request -> initrd request)', startS: t(mkKernel), endS: t(mkInitrd), note: 'HTTP or TFTP' },
    { name: 'initrd download + kernel boot -> /init', startS: t(mkInitrd), endS: s(initLine), note: 'serial console' },
    {
      name: '/init -> agent started (Node starts beside the drivers and DHCP)',
      startS: s(initLine),
      endS: s(agentLine),
      note: 'serial console',
    },
    {
      name: '/init -> network ready (drivers, DHCP, LLDP capture)',
      startS: s(initLine),
      endS: s(readyLine ?? agentLine),
      note: 'serial console',
    },
    {
      name: "network ready -> registered (the rest of Node's start, facts, register)",
      startS: s(readyLine ?? agentLine),
      endS: t(registered),
      note: '',
    },
    { name: 'first check-in', startS: t(registered), endS: t(checkin), note: '' },
    { name: 'power-on -> node visible (registered)', startS: 0, endS: t(registered), note: 'headline' },
  ];
}

const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));

/** A markdown table of several guests' phases side by side. */
export function phasesMarkdown(cols: { label: string; phases: Phase[] }[]): string {
  const names = cols[0]?.phases.map((p) => p.name) ?? [];
  const head = `| phase (seconds after power-on: start -> end, duration) | ${cols.map((c) => c.label).join(' | ')} |`;
  const sep = `|---|${cols.map(() => '---').join('|')}|`;
  const rows = names.map((n, i) => {
    const cells = cols.map((c) => {
      const p = c.phases[i]!;
      const d = p.startS !== null && p.endS !== null ? ` (${(p.endS - p.startS).toFixed(1)} s)` : '';
      return `${f(p.startS)} -> ${f(p.endS)}${d}${p.note ? ` ${p.note}` : ''}`;
    });
    return `| ${n} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/**
 * Seconds from a guest's power-on to its node's first `node.registered` event of that power-on, or null. The tests'
 * "registered as node N after X s" lines use this: the loop that waits for the node polls once a second, so the
 * time it saw the node was up to a second late (every figure read off those lines until 2026-12-05 was).
 */
export function registeredAfterS(g: Pick<Guest, 'poweredOnAt'>, nodeId: number, events: readonly CcEvent[]): number | null {
  const e = events.find((x) => x.type === 'node.registered' && x.node_id === nodeId && Date.parse(x.ts) >= g.poweredOnAt);
  return e ? (Date.parse(e.ts) - g.poweredOnAt) / 1000 : null;
}
