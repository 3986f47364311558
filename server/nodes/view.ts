/** NodeDoc (storage) -> Node (API contract): drops secrets and internals. */
import type { Node, NodeTask, ReservationView } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcNodeFields } from '../bmc/node-bmc-view.ts';
import { bootArch, type MkArch } from '../boot/microkernel-select.ts';
import './operator-fields.ts';

/** What a view needs besides the record; the extras are read once per request by `viewContext`. */
export interface NodeViewContext {
  approval_required: boolean;
  /** The DHCP reservation of a MAC (canonical), or null. */
  reservationFor?: (mac: string) => ReservationView | null;
  /**
   * The microkernel served now to machines of `arch`, as boot scripts name it (server/boot/scripts.ts
   * microkernelLabel), or null when there is none: an arm64 node is compared with the arm64 microkernel.
   */
  microkernelFor?: (arch: MkArch) => string | null;
  /** The node's resolved boot chain in words (boot-settings.ts `describeBootChain`); without it, the node's own setting. */
  bootChainOf?: (d: NodeDoc) => string;
}

/** The reservation one of the node's MACs holds (boot MAC first). */
function reservationOf(d: NodeDoc, s: NodeViewContext): ReservationView | null {
  if (!s.reservationFor) return null;
  for (const m of [d.boot_mac, ...d.macs]) {
    const r = m ? s.reservationFor(m) : null;
    if (r) return r;
  }
  return null;
}

/**
 * True when the node registered with a microkernel other than the one its architecture gets now. The
 * architecture is what its boot loader reported (no name: amd64, as boot-flow.ts assumes); one we build
 * no microkernel for, or none installed, is never "outdated": there is nothing newer to boot.
 */
function microkernelOutdated(d: NodeDoc, s: NodeViewContext): boolean {
  const arch = bootArch(d.arch);
  const served = arch && d.microkernel_version && s.microkernelFor ? s.microkernelFor(arch) : null;
  return Boolean(served && d.microkernel_version !== served);
}

/** The API view of a node; `approved` is what the binder acts on (everyone, while approval is not required). */
export function nodeView(d: NodeDoc, s: NodeViewContext): Node {
  const reservation = reservationOf(d, s);
  return {
    id: d.id,
    hostname: d.hostname,
    state: d.state,
    ...(d.state_before_lost ? { state_before_lost: d.state_before_lost } : {}),
    macs: d.macs,
    boot_mac: d.boot_mac,
    uuid: d.uuid,
    serial: d.serial,
    manufacturer: d.manufacturer,
    product: d.product,
    arch: d.arch,
    platform: d.platform,
    boot_mode: d.boot_mode,
    ip: d.ip,
    tags: d.tags,
    policy: d.policy,
    bound_explicitly: d.bound_explicitly,
    efi_loader: d.efi_loader,
    boot_chain: d.boot_chain ?? null,
    boot_chain_effective: s.bootChainOf ? s.bootChainOf(d) : (d.boot_chain ?? 'auto'),
    last_chain: d.last_chain ?? null,
    facts_hash: d.facts_hash,
    created_at: d.created_at,
    registered_at: d.registered_at,
    last_seen: d.last_seen,
    summary: d.summary,
    metadata: d.metadata,
    conflicts: d.conflicts ?? [],
    approved: Boolean(d.approved) || !s.approval_required,
    hostname_locked: Boolean(d.hostname_locked),
    ip_reserved: d.ip_reserved ?? reservation?.ip ?? null,
    reservation,
    manifest: d.manifest ?? null,
    microkernel_version: d.microkernel_version ?? null,
    agent_version: d.agent_version ?? null,
    microkernel_outdated: microkernelOutdated(d, s),
    facts_complete: d.facts_complete !== false,
    ...bmcNodeFields(d),
    task: (d['task'] as NodeTask | null | undefined) ?? null,
  };
}
