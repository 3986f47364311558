/**
 * The boot timeline of one node, built from its events: DHCP -> TFTP -> HTTP -> kernel ->
 * check-ins, each step with time and size, and a plain-language hint where the chain stops
 * or fails. Pure: events in, steps out.
 */
import type { CcEvent } from '../../../contract/events.ts';

/** Stage of the network boot. */
export type BootPhase = 'dhcp' | 'tftp' | 'http' | 'kernel' | 'agent' | 'policy' | 'other';

/** One line of the timeline. */
export interface BootStep {
  seq: number;
  ts: string;
  phase: BootPhase;
  title: string;
  detail: string;
  /** Bytes moved, when the event says. */
  bytes: number | null;
  status: 'ok' | 'warn' | 'error';
  /** What it means and what to do, in plain words. */
  hint: string | null;
  /** For merged check-ins: how many. */
  count: number;
}

const PHASE: Record<string, BootPhase> = {
  'dhcp.': 'dhcp',
  'tftp.': 'tftp',
  'http.': 'http',
};

/** Plain-language hints, keyed by what went wrong. */
export const HINTS = {
  noOffer:
    'The machine asked for an address but got no answer from Crashcart. Check that DHCP is running in Setup and that the machine is cabled to the provisioning NIC.',
  nak: 'Crashcart refused the address the machine asked for (it moved subnet or its lease expired). The firmware retries by itself.',
  noTftp:
    'The machine got an address but never fetched its boot loader over TFTP: a firewall dropping UDP 69, or PXE disabled in the firmware.',
  tftpError:
    'The boot loader transfer failed: often a firewall dropping UDP data packets, or a firmware that cannot take the block size. Retry; if it repeats, lower the TFTP block size.',
  noScript:
    'The loader arrived but iPXE never fetched its boot script over HTTP: check that the node-plane HTTP port is reachable from the node.',
  noAgent:
    'The microkernel was sent but its agent has not registered: the kernel may lack a driver for this NIC (see "undriven NICs") or cannot reach the appliance over HTTP.',
  lost: 'The node stopped checking in: powered off, booted from its disk, or cut from the network.',
  nodeError: 'The node reported an error; the message says which step.',
} as const;

function phaseOf(type: string): BootPhase {
  for (const [p, v] of Object.entries(PHASE)) if (type.startsWith(p)) return v;
  // The first boot-script request (iPXE over HTTP) is what creates a node.
  if (type === 'node.discovered') return 'http';
  if (type === 'node.boot') return 'kernel';
  if (
    type === 'node.registered' ||
    type === 'node.checkin' ||
    type === 'node.facts_changed' ||
    type === 'node.lost' ||
    type === 'node.found'
  )
    return 'agent';
  if (['node.bound', 'node.unbound', 'node.stage', 'node.reinstall'].includes(type)) return 'policy';
  return 'other';
}

function bytesOf(data: Record<string, unknown>): number | null {
  for (const k of ['bytes', 'size', 'size_bytes', 'transferred']) {
    const v = data[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

function detailOf(ev: CcEvent): string {
  const d = ev.data;
  const parts: string[] = [];
  for (const k of ['file', 'path', 'ip', 'yiaddr', 'stage', 'policy', 'duration_ms', 'blksize']) {
    const v = d[k];
    if (typeof v === 'string' || typeof v === 'number') parts.push(k === 'duration_ms' ? `${v} ms` : String(v));
  }
  return parts.join(' · ');
}

/** Build the timeline from events in any order (the API answers newest first). */
export function buildTimeline(events: readonly CcEvent[], now: number = Date.now()): BootStep[] {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const steps: BootStep[] = [];
  for (const ev of sorted) {
    const phase = phaseOf(ev.type);
    const last = steps[steps.length - 1];
    if (ev.type === 'node.checkin' && last && last.title === 'Check-ins') {
      last.count++;
      last.ts = ev.ts;
      last.seq = ev.seq;
      last.detail = `${last.count} check-ins, last ${ev.message}`.trim();
      continue;
    }
    const isError = ev.type.endsWith('.error') || ev.type === 'dhcp.nak' || ev.type === 'dhcp.decline';
    const step: BootStep = {
      seq: ev.seq,
      ts: ev.ts,
      phase,
      title: ev.type === 'node.checkin' ? 'Check-ins' : ev.message || ev.type,
      detail: detailOf(ev),
      bytes: bytesOf(ev.data),
      status: isError ? 'error' : ev.type === 'node.lost' ? 'warn' : 'ok',
      hint: null,
      count: 1,
    };
    if (ev.type === 'tftp.error') step.hint = HINTS.tftpError;
    else if (ev.type === 'dhcp.nak') step.hint = HINTS.nak;
    else if (ev.type === 'node.lost') step.hint = HINTS.lost;
    else if (ev.type === 'node.error') step.hint = HINTS.nodeError;
    steps.push(step);
  }
  addStallHint(sorted, steps, now);
  return steps;
}

/** Where the chain stopped: hint on the last step if the next stage never came (after a grace time). */
function addStallHint(sorted: CcEvent[], steps: BootStep[], now: number): void {
  const last = sorted[sorted.length - 1];
  const tail = steps[steps.length - 1];
  if (!last || !tail || tail.hint) return;
  // Give each stage 90 s before calling it stuck: firmware is slow, not broken.
  if (now - Date.parse(last.ts) < 90_000) return;
  const seen = (p: (t: string) => boolean): boolean => sorted.some((e) => p(e.type));
  const answered = seen((t) => t === 'dhcp.offer' || t === 'dhcp.ack' || t === 'dhcp.proxy');
  let hint: string | null = null;
  if (seen((t) => t === 'dhcp.discover') && !answered) hint = HINTS.noOffer;
  else if (answered && !seen((t) => t.startsWith('tftp.') || t === 'http.transfer' || t === 'node.boot')) hint = HINTS.noTftp;
  else if (seen((t) => t === 'tftp.finish') && !seen((t) => t === 'node.boot' || t === 'http.transfer')) hint = HINTS.noScript;
  else if (seen((t) => t === 'node.boot') && !seen((t) => t === 'node.registered' || t === 'node.checkin')) hint = HINTS.noAgent;
  if (hint) {
    tail.hint = hint;
    tail.status = 'warn';
  }
}
