/**
 * Which chain a node's last network boot took (BIOS iPXE, UEFI iPXE, shim/GRUB, UEFI HTTP boot, U-Boot) and
 * the last stage it reached, from its events: the heading of the boot timeline. Pure: events in, summary out.
 */
import type { CcEvent } from '../../../contract/events.ts';
import { BOOT_CHAIN_LABELS, chainOfBootFile, type BootChain } from '../../../contract/boot-chain.ts';

/** Stages of a network boot, in order; `stoppedAt` names the last one seen. */
export const BOOT_STAGES = ['dhcp', 'loader', 'config', 'kernel', 'registered'] as const;
/** One stage. */
export type BootStage = (typeof BOOT_STAGES)[number];

/** Words for each stage, per chain where they differ (GRUB reads a configuration, iPXE a script). */
const STAGE_LABEL: Readonly<Record<BootStage, string>> = {
  dhcp: 'DHCP (no loader fetched)',
  loader: 'first-stage loader fetched',
  config: 'boot configuration fetched',
  kernel: 'microkernel sent',
  registered: 'registered',
};

/** The heading of a timeline. */
export interface ChainSummary {
  chain: BootChain | null;
  /** What the UI shows for the chain ("shim/GRUB (Secure Boot capable)"), or "unknown". */
  label: string;
  /** The last stage of the latest boot, or null before any boot event. */
  stoppedAt: BootStage | null;
  stoppedAtLabel: string;
  /** Why the firmware was not served or the chain changed (dhcp.unsupported / node.chain), if it says. */
  note: string | null;
}

function stageOf(e: CcEvent): BootStage | null {
  switch (e.type) {
    case 'dhcp.offer':
    case 'dhcp.ack':
    case 'dhcp.discover':
    case 'dhcp.request':
      return 'dhcp';
    case 'tftp.finish':
      // GRUB's configuration and the kernel travel over TFTP too; anything else is the first-stage loader.
      if (/(^|\/)grub\/|\.cfg$/.test(e.data.file)) return 'config';
      return /(vmlinuz|initrd)/.test(e.data.file) ? 'kernel' : 'loader';
    case 'http.transfer': {
      const url = 'url' in e.data ? e.data.url : '';
      if (/^\/ipxe\//.test(url)) return 'loader';
      return /\/boot/.test(url) ? 'config' : null;
    }
    case 'node.discovered':
      return 'config';
    case 'node.boot':
      return 'kernel';
    case 'node.registered':
    case 'node.checkin':
      return 'registered';
    default:
      return null;
  }
}

/** Summarise the latest boot in `events` (any order). */
export function chainSummary(events: readonly CcEvent[]): ChainSummary {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  let chain: BootChain | null = null;
  let stage: BootStage | null = null;
  let note: string | null = null;
  for (const e of sorted) {
    if (e.type === 'dhcp.offer' || e.type === 'dhcp.ack') {
      const c = chainOfBootFile(e.data.file ?? null, e.data.arch, e.data.vendor_class);
      // A new first-stage answer starts a new boot; the iPXE script URL continues the current one.
      if (c) {
        if (c !== chain || stage === 'registered') stage = null;
        chain = c;
      }
    }
    if (e.type === 'dhcp.unsupported' || e.type === 'node.chain') note = e.message;
    const s = stageOf(e);
    if (s && (stage === null || BOOT_STAGES.indexOf(s) > BOOT_STAGES.indexOf(stage))) stage = s;
  }
  return {
    chain,
    label: chain ? BOOT_CHAIN_LABELS[chain] : 'unknown',
    stoppedAt: stage,
    stoppedAtLabel: stage ? STAGE_LABEL[stage] : 'no boot seen',
    note,
  };
}
