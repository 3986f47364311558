/**
 * A machine meets its manifest row (docs/identity.md 1, docs/manifest.md): the first machine that matches
 * an unclaimed record by serial, UUID or any MAC takes it, and the record (its id, hostname, metadata,
 * static address, policy, BMC address) becomes that machine's. A claim on the serial or UUID alone is held
 * (held-claim.ts): the row's policy and DHCP reservation wait for the operator, and a boot loader asking with a MAC
 * the row lists takes the row over it. What matches a claimed record, or two records at once, is left to the usual
 * identity rules: a conflict for the operator. Call under the core lock.
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { Identity } from '../nodes/identity.ts';
import { repointConflicts } from '../nodes/conflicts.ts';
import { isUnclaimed } from '../nodes/operator-fields.ts';
import { setStaticIp } from '../nodes/static-ip.ts';
import { CcError } from '../errors/cc-error.ts';
import { MACHINE_FIELDS } from './machine-fields.ts';
import { CLAIM_HELD, endHold, heldNote, holdClaim, rowMacTakesOver, splitHeldClaim } from './held-claim.ts';

/**
 * Where the machine spoke: a boot loader's request naming the MAC it boots from (`/boot`, GRUB's configuration), a
 * DHCP packet, or its agent's registration. Only a boot loader's takes a row over a held claim (held-claim.ts): the
 * microkernel asks DHCP on every NIC, so the held machine shows the row's MACs too when it is the row's machine, and a
 * registration lists whatever MACs its agent says.
 */
export type ClaimContact = 'boot' | 'dhcp' | 'registration';

/** Where an expected record came from, for messages: its manifest row, or the BMC it was made from. */
function origin(m: NonNullable<NodeDoc['manifest']>): string {
  return m.origin === 'bmc' ? `the record made from ${m.source}` : `manifest row ${m.row}`;
}

/**
 * A record made from a BMC that listed the machine's NICs is claimed only by a machine showing one of those
 * MACs: its UUID and serial are in every DHCP packet it sends (option 97) and in its BMC, so a machine naming
 * them alone may be anyone on the rack (docs/identity.md 1). It stays a conflict for the operator.
 */
export function needsMacToClaim(e: NodeDoc, seen: Identity): boolean {
  return e.manifest?.origin === 'bmc' && e.macs.length > 0 && !seen.macs.some((m) => e.macs.includes(m));
}

/** What the machine reported that the row says otherwise (kept on the record; manifest binding waits). */
function differences(e: NodeDoc, seen: Identity): string[] {
  const out: string[] = [];
  if (seen.serial && e.serial && seen.serial !== e.serial) out.push(`serial: the row says ${e.serial}, the machine ${seen.serial}`);
  if (seen.uuid && e.uuid && seen.uuid !== e.uuid) out.push(`uuid: the row says ${e.uuid}, the machine ${seen.uuid}`);
  return out;
}

/** Note what waits for the operator on a claimed record (differences, a held claim), once each, with an event. */
function noteMismatch(ctx: CoreContext, e: NodeDoc, notes: readonly string[]): void {
  if (!e.manifest) return;
  const fresh = notes.filter((d) => !e.manifest!.mismatch.includes(d));
  if (fresh.length === 0) return;
  e.manifest = { ...e.manifest, mismatch: [...e.manifest.mismatch, ...fresh] };
  ctx.events.emit('node.claimed', {
    node_id: e.id,
    mac: e.boot_mac,
    message: `The machine differs from ${origin(e.manifest)}: ${fresh.join('; ')}. Binding by the manifest waits: accept on the node page`,
    data: { mismatch: fresh },
  });
}

/** The record's static address becomes the DHCP reservation of the MAC the machine showed up with. */
async function reserveOnArrival(ctx: CoreContext, e: NodeDoc): Promise<string | null> {
  if (!e.ip_reserved || !e.boot_mac || ctx.reservations.reservationFor(e.boot_mac)) return null;
  try {
    return await setStaticIp(ctx, e, e.ip_reserved, e.boot_mac);
  } catch (err) {
    if (!(err instanceof CcError)) throw err;
    return `DHCP reservation not made: ${err.message}`;
  }
}

/**
 * Mark an unclaimed record as claimed by the machine now using it; `how` says what matched. `byMac`: a MAC the
 * record lists matched; else the claim is held (docs/identity.md 1): no reservation, and a note that keeps the
 * manifest's policy from binding until the operator accepts.
 */
async function arrive(ctx: CoreContext, e: NodeDoc, seen: Identity, how: string, from: number | null, byMac: boolean): Promise<void> {
  const now = ctx.now().toISOString();
  e.manifest = { ...e.manifest!, claimed_at: now };
  if (e.state === 'expected') e.state = 'discovered';
  const note = byMac
    ? await reserveOnArrival(ctx, e)
    : e.ip_reserved
      ? 'DHCP reservation waits until the operator accepts the claim'
      : null;
  ctx.events.emit('node.claimed', {
    node_id: e.id,
    mac: e.boot_mac,
    message: `Expected machine arrived (${origin(e.manifest)}, matched by ${how})${note ? `; ${note}` : ''}`,
    data: { row: e.manifest.row, matched_by: how, from, reservation_note: note },
  });
  noteMismatch(ctx, e, [...(byMac ? [] : [heldNote(how, e.boot_mac)]), ...differences(e, seen)]);
}

/**
 * A held claim the operator accepted (its note is gone from `manifest.mismatch`): the claim stands confirmed, and the
 * record's static address becomes the DHCP reservation of the MAC it booted with, as at a claim by MAC. The accept
 * calls it (server/nodes/node-edit.ts), so the reservation is on disk before the operator's answer; a record accepted
 * before the accept did so is confirmed at its machine's next contact. The caller saves the record.
 */
export async function confirmHeldClaim(ctx: CoreContext, e: NodeDoc): Promise<void> {
  if (!e.manifest_claim_held || !e.manifest || e.manifest.mismatch.some((m) => m.startsWith(CLAIM_HELD))) return;
  endHold(e);
  if (!e.ip_reserved) return;
  const ip = e.ip_reserved;
  const note = await reserveOnArrival(ctx, e);
  ctx.events.emit('node.address', {
    node_id: e.id,
    mac: e.boot_mac,
    message: `Claim accepted by the operator: static address ${ip}${note ? ` (${note})` : ` reserved for ${e.boot_mac ?? '?'}`}`,
    data: { ip, note },
  });
}

/**
 * A held claim serves nothing the operator set up for the row's machine: a binding made by hand on the expected record
 * before it arrived becomes the policy its manifest link names, which binds once the operator accepts the claim (as the
 * row's own policy does), and the record goes back to waiting for its machine's state.
 */
function holdBinding(e: NodeDoc): void {
  if (e.policy === null || !e.manifest) return;
  e.manifest = { ...e.manifest, policy: e.policy };
  e.policy = null;
  e.bound_explicitly = false;
  e.state = 'expected';
}

/** Fold the machine's own record into the manifest record it claimed: the manifest record (its id) stays. */
async function fold(ctx: CoreContext, e: NodeDoc, m: NodeDoc): Promise<void> {
  const wasBoundByHand = e.policy !== null;
  for (const k of MACHINE_FIELDS) {
    if (wasBoundByHand && (k === 'state' || k === 'reboot_sent_at')) continue;
    (e as Record<string, unknown>)[k] = m[k];
  }
  if (!wasBoundByHand && m.policy) {
    e.policy = m.policy;
    e.bound_explicitly = m.bound_explicitly;
  }
  e.macs = [...new Set([...e.macs, ...m.macs])];
  e.boot_mac = m.boot_mac ?? e.boot_mac;
  e.hostname = e.hostname ?? m.hostname;
  e.uuid = e.uuid ?? m.uuid;
  e.serial = e.serial ?? m.serial;
  e.efi_loader = e.efi_loader ?? m.efi_loader;
  e.approved = Boolean(e.approved || m.approved);
  e.metadata = { ...m.metadata, ...e.metadata };
  e.created_at = e.created_at < m.created_at ? e.created_at : m.created_at;
  e.conflicts = (m.conflicts ?? []).filter((c) => c.node_id !== e.id);
  e.kept_apart = [...new Set([...(e.kept_apart ?? []), ...(m.kept_apart ?? [])])].filter((id) => id !== e.id && id !== m.id);
  const facts = await ctx.store.facts.findOne({ _id: String(m.id) });
  if (facts) {
    await ctx.store.facts.put({ ...facts, _id: String(e.id) });
    await ctx.store.facts.remove({ _id: String(m.id) });
  }
  await ctx.repo.remove(m.id);
  await repointConflicts(ctx, m.id, e.id);
}

/**
 * `node` (the record the machine is using now) reported `seen` through `contact`. If it is an unclaimed manifest
 * record it is claimed; if its claim is held for another machine and a boot loader asks with a MAC the row lists,
 * that MAC takes the row (the held machine is split off); if another, single, unclaimed manifest record matches and
 * nothing else does, the machine takes it (its record folds into the manifest record). Returns the record to go on
 * with; the caller saves it.
 */
export async function claimManifest(ctx: CoreContext, node: NodeDoc, seen: Identity, contact: ClaimContact): Promise<NodeDoc> {
  if (node.manifest) {
    // The machine reached this record by a MAC it holds (/boot, DHCP) or by the token /boot gave it.
    const bootMac = contact === 'boot' ? (seen.macs[0] ?? null) : null;
    if (isUnclaimed(node)) await arrive(ctx, node, seen, 'mac', null, true);
    // The row's own MAC is the strong claim: it takes the row as it would an unclaimed one (docs/identity.md 1).
    else if (bootMac && rowMacTakesOver(node, bootMac) && (await splitHeldClaim(ctx, node, bootMac)))
      await arrive(ctx, node, seen, 'mac', null, true);
    else {
      await confirmHeldClaim(ctx, node);
      noteMismatch(ctx, node, differences(node, seen));
    }
    return node;
  }
  const others = ctx.repo.candidates(seen.macs, seen.uuid, seen.serial).filter((c) => c.id !== node.id);
  const open = others.filter(isUnclaimed);
  // One unclaimed row and nothing else: the machine takes it. Anything more is a conflict the usual rules record.
  if (open.length !== 1 || others.length !== 1) return node;
  const e = open[0]!;
  if (needsMacToClaim(e, seen)) return node;
  const byMac = seen.macs.some((x) => e.macs.includes(x));
  const how = [
    ...(seen.serial && e.serial === seen.serial ? ['serial'] : []),
    ...(seen.uuid && e.uuid === seen.uuid ? ['uuid'] : []),
    ...(byMac ? ['mac'] : []),
  ].join(' and ');
  // The serial or UUID alone may be anyone's (option 97 is in every DHCP packet): the claim is held.
  if (!byMac) {
    holdBinding(e);
    holdClaim(e, seen);
  }
  await fold(ctx, e, node);
  await arrive(ctx, e, seen, how, node.id, byMac);
  return e;
}
