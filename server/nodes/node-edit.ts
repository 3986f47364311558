/**
 * What the operator edits on one node (node page, API, CLI): the hostname (kept over the policy's
 * template once set), the EFI loader, the boot chain, metadata (whole or key by key), the static address and its DHCP
 * reservation, and accepting what a machine reported differently from its manifest row.
 */
import type { BootChainSetting } from '../../contract/boot-chain.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { ccError } from '../errors/cc-error.ts';
import { refreshTags } from '../tags/retag.ts';
import { renderHostname } from '../policies/policy-service.ts';
import { autoBindLocked } from '../policies/binder.ts';
import { setStaticIp } from './static-ip.ts';
import { confirmHeldClaim } from '../manifest/claim.ts';
import './operator-fields.ts';

/** The editable fields of PATCH /api/v1/nodes/ID. */
export interface NodePatch {
  /** A hostname the node keeps; null hands it back to the policy's template. */
  hostname?: string | null;
  efi_loader?: 'ipxe.efi' | 'snponly.efi' | null;
  /** This node's UEFI chain; null: its tags' or the appliance's (node > tag > appliance, boot-settings.ts). */
  boot_chain?: BootChainSetting | null;
  /** Replaces the whole metadata. */
  metadata?: Record<string, unknown>;
}

/** Most metadata keys on one node (the manifest adds every extra column). */
export const MAX_METADATA_KEYS = 256;

function nodeOr404(ctx: CoreContext, id: number): NodeDoc {
  const node = ctx.repo.get(id);
  if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
  return node;
}

/** The hostname the node gets back when the operator lets go of it. */
function templateHostname(ctx: CoreContext, node: NodeDoc): string | null {
  const p = node.policy ? ctx.policies.get(node.policy) : undefined;
  return p ? renderHostname(p.hostname_template, node) : null;
}

/** Apply a PATCH; tags that read metadata are evaluated again. */
export function editNode(ctx: CoreContext, id: number, p: NodePatch): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = nodeOr404(ctx, id);
    if (p.hostname !== undefined) {
      node.hostname_locked = p.hostname !== null;
      node.hostname = p.hostname ?? templateHostname(ctx, node);
    }
    if (p.efi_loader !== undefined) node.efi_loader = p.efi_loader;
    if (p.boot_chain !== undefined) node.boot_chain = p.boot_chain;
    if (p.metadata !== undefined) {
      if (Object.keys(p.metadata).length > MAX_METADATA_KEYS)
        throw ccError('CC_ERR_BAD_REQUEST', `metadata: at most ${MAX_METADATA_KEYS} keys`);
      node.metadata = p.metadata;
    }
    await refreshTags(ctx, node);
    await ctx.repo.save(node);
    const what = Object.keys(p).join(', ');
    // Keys only: the values are the operator's and go to the API, not to the event log's readers.
    ctx.events.emit('node.edited', { node_id: id, message: `Node ${id}: ${what} edited`, data: { fields: Object.keys(p) } });
    return node;
  });
}

/** Set one metadata key (`value` undefined deletes it). */
export function setMetadataKey(ctx: CoreContext, id: number, key: string, value: unknown): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = nodeOr404(ctx, id);
    const next = { ...node.metadata };
    if (value === undefined) {
      if (!(key in next)) throw ccError('CC_ERR_NOT_FOUND', `node ${id} has no metadata key "${key}"`);
      delete next[key];
    } else next[key] = value;
    if (Object.keys(next).length > MAX_METADATA_KEYS) throw ccError('CC_ERR_BAD_REQUEST', `metadata: at most ${MAX_METADATA_KEYS} keys`);
    node.metadata = next;
    await refreshTags(ctx, node);
    await ctx.repo.save(node);
    const verb = value === undefined ? 'removed' : 'set';
    ctx.events.emit('node.edited', { node_id: id, message: `Node ${id}: metadata ${key} ${verb}`, data: { metadata_key: key } });
    return node;
  });
}

/** Set or remove the node's static address; returns the node and a note when no DHCP reservation could be made. */
export function setNodeAddress(
  ctx: CoreContext,
  id: number,
  ip: string | null,
  mac?: string,
): Promise<{ node: NodeDoc; note: string | null }> {
  return durably(ctx, async () => {
    const node = nodeOr404(ctx, id);
    const note = await setStaticIp(ctx, node, ip, mac);
    await ctx.repo.save(node);
    ctx.events.emit('node.address', {
      node_id: node.id,
      mac: node.boot_mac,
      message: ip ? `Static address ${ip}${note ? ` (${note})` : ''}` : 'Static address removed',
      data: { ip, note },
    });
    return { node, note };
  });
}

/**
 * The operator accepts what the machine reported differently from its manifest row: manifest binding may go on. A held
 * claim (docs/identity.md 1) is confirmed at once: the row's static address becomes the DHCP reservation of the
 * machine's MAC, on disk before the answer, as at a claim by MAC (the same code, server/manifest/claim.ts).
 */
export function acceptManifestMismatch(ctx: CoreContext, id: number): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = nodeOr404(ctx, id);
    if (!node.manifest || node.manifest.mismatch.length === 0)
      throw ccError('CC_ERR_NOT_FOUND', `node ${id} has no manifest mismatch to accept`);
    const accepted = node.manifest.mismatch;
    node.manifest = { ...node.manifest, mismatch: [] };
    ctx.events.emit('node.claimed', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Operator accepted the differences from manifest row ${node.manifest.row}: ${accepted.join('; ')}`,
      data: { accepted },
    });
    await confirmHeldClaim(ctx, node);
    await ctx.repo.save(node);
    await autoBindLocked(ctx, node);
    return node;
  });
}
