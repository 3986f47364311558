/** NodeDoc (storage) -> Node (API contract): drops secrets and internals. */
import type { Node, NodeTask, ReservationView } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcNodeFields } from '../bmc/node-bmc-view.ts';
import './operator-fields.ts';

/** What a view needs besides the record; the extras are read once per request by `viewContext`. */
export interface NodeViewContext {
  approval_required: boolean;
  /** The DHCP reservation of a MAC (canonical), or null. */
  reservationFor?: (mac: string) => ReservationView | null;
  /** The microkernel served now, as boot scripts name it (server/boot/scripts.ts microkernelLabel), or null. */
  microkernel?: string | null;
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
    microkernel_outdated: Boolean(d.microkernel_version && s.microkernel && d.microkernel_version !== s.microkernel),
    facts_complete: d.facts_complete !== false,
    ...bmcNodeFields(d),
    task: (d['task'] as NodeTask | null | undefined) ?? null,
  };
}
