/** NodeDoc (storage) -> Node (API contract): drops secrets and internals. */
import type { Node } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';

/** The API view of a node; `approved` is what the binder acts on (everyone, while approval is not required). */
export function nodeView(d: NodeDoc, s: { approval_required: boolean }): Node {
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
    facts_complete: d.facts_complete !== false,
  };
}
