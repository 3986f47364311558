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

/** Bytes moved, for the events that move a file. */
function bytesOf(ev: CcEvent): number | null {
  switch (ev.type) {
    case 'tftp.finish':
    case 'tftp.error':
    case 'http.transfer':
      return ev.data.bytes;
    case 'tftp.start':
      return ev.data.size;
    default:
      return null;
  }
}

/** The fields of an event worth a glance in the timeline: file, address, stage, policy, time, block size. */
function detailParts(ev: CcEvent): (string | number | null | undefined)[] {
  switch (ev.type) {
    case 'dhcp.discover':
    case 'dhcp.offer':
    case 'dhcp.request':
    case 'dhcp.ack':
    case 'dhcp.nak':
    case 'dhcp.decline':
    case 'dhcp.release':
    case 'dhcp.inform':
    case 'dhcp.unsupported':
      return [ev.data.file, ev.data.ip];
    case 'tftp.start':
      return [ev.data.file, ev.data.blksize];
    case 'tftp.finish':
      return [ev.data.file, `${ev.data.duration_ms} ms`, ev.data.blksize];
    case 'tftp.error':
      return 'duration_ms' in ev.data ? [ev.data.file, `${ev.data.duration_ms} ms`, ev.data.blksize] : [ev.data.file];
    case 'http.transfer':
      return 'url' in ev.data ? [ev.data.ip] : [ev.data.file];
    case 'boot.loader_missing':
      return [ev.data.file];
    case 'node.discovered':
    case 'node.boot':
    case 'node.token_refused':
    case 'node.address':
    case 'dhcp.proxy':
    case 'dhcp.reservation':
      return [ev.data.ip];
    case 'node.stage':
      return [ev.data.stage];
    case 'node.bound':
    case 'node.unbound':
    case 'node.reinstall':
    case 'node.reboot_sent':
    case 'node.task_started':
      return [ev.data.policy];
    default:
      return [];
  }
}

function detailOf(ev: CcEvent): string {
  return detailParts(ev)
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
    .join(' · ');
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
      bytes: bytesOf(ev),
      status: isError ? 'error' : ev.type === 'node.lost' ? 'warn' : 'ok',
      hint: null,
      count: 1,
    };
    if (ev.type === 'tftp.error') step.hint = HINTS.tftpError;
    else if (ev.type === 'dhcp.nak') step.hint = HINTS.nak;
    else if (ev.type === 'node.lost') step.hint = HINTS.lost;
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
