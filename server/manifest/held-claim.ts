/**
 * A manifest claim made on the serial or UUID alone is held (docs/identity.md 1, docs/manifest.md "When a machine
 * arrives"): both are in every DHCP packet the row's machine broadcasts, so the machine that named them has the record
 * and its name, but nothing set up for the row's machine until the operator accepts. While the claim is held, a boot
 * loader asking with a MAC the row lists is the stronger claim, as at an unclaimed row: the held machine's record is
 * split off again, with everything it brought, and keeps an identity conflict for the operator. Call under the core lock.
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import type { Identity, Overlap } from '../nodes/identity.ts';
import { recordConflicts } from '../nodes/conflicts.ts';
import { clearInstall } from '../nodes/tokens.ts';
import { LATER_MACHINE_FIELDS, MACHINE_FIELDS } from './machine-fields.ts';

/** What a record had from its row when a claim on the serial or UUID alone folded a machine's record into it. */
export interface HeldRow {
  /** The MACs the row lists: a boot loader asking with one of them takes the row over the held claim. */
  macs: string[];
  uuid: string | null;
  serial: string | null;
  /** What the held claim matched the row by: the identifiers the split-off record then reports of another's. */
  matched: ('uuid' | 'serial')[];
}

declare module '../store/docs.ts' {
  interface NodeDoc {
    /**
     * A machine claimed this manifest record on its serial or UUID alone (docs/identity.md 1): set with the CLAIM_HELD
     * note, cleared when the operator accepts (the reservation is made then) or a MAC the row lists takes the row.
     */
    manifest_claim_held?: boolean;
    /** While the claim is held: what the record had from its row before the machine's record folded in. */
    manifest_held_row?: HeldRow;
  }
}

/**
 * How the note of a held claim starts in `manifest.mismatch`: the operator's accept clears the list, so a record
 * still flagged without its note was accepted.
 */
export const CLAIM_HELD = 'claim not confirmed';

/** The note of a claim made on identifiers the rack can copy; `mac`: what the machine booted with. */
export function heldNote(how: string, mac: string | null): string {
  return (
    `${CLAIM_HELD}: matched by ${how} alone, not by a MAC of the row (anyone on the rack can copy a UUID or serial ` +
    `from the machine's DHCP broadcasts); its policy and DHCP reservation wait: accept if ${mac ?? 'the machine'} is this machine`
  );
}

/** Hold the claim `seen` is about to make of `e`, remembering what the record has from its row. Call before the fold. */
export function holdClaim(e: NodeDoc, seen: Identity): void {
  const matched = (['uuid', 'serial'] as const).filter((f) => seen[f] !== null && seen[f] === e[f]);
  e.manifest_claim_held = true;
  e.manifest_held_row = { macs: [...e.macs], uuid: e.uuid, serial: e.serial, matched };
}

/** True while a held claim waits for the operator (its note is still in `manifest.mismatch`). */
export function isHeld(e: NodeDoc): boolean {
  return Boolean(e.manifest_claim_held && e.manifest?.mismatch.some((m) => m.startsWith(CLAIM_HELD)));
}

/** The hold is over: the operator accepted it, or a MAC the row lists took the row. */
export function endHold(e: NodeDoc): void {
  e.manifest_claim_held = false;
  delete e.manifest_held_row;
}

/**
 * True when a boot loader asking with `mac` takes the row over its held claim: `mac` is one the row lists. A record
 * held before the row's MACs were remembered (no `manifest_held_row`) waits for the operator as it did.
 */
export function rowMacTakesOver(e: NodeDoc, mac: string): boolean {
  return isHeld(e) && (e.manifest_held_row?.macs.includes(mac) ?? false);
}

/** Exchange one field of two records (an absent field stays absent). */
function swap(a: NodeDoc, b: NodeDoc, k: string): void {
  const [x, y] = [a[k], b[k]];
  if (y === undefined) delete a[k];
  else a[k] = y;
  if (x === undefined) delete b[k];
  else b[k] = x;
}

/**
 * `mac`, one the row lists, took the row while its claim was held for another machine: that machine's record is split
 * off again (the record it had before the claim folded it in, with a new id): the MACs the row does not list, the
 * UUID or serial it brought, its boot and registration, its tokens, facts and conflicts, plus a conflict for naming
 * the row's UUID or serial. The row's record keeps the row's identifiers, a binding the operator made, and nothing of
 * that machine; the hold ends. Returns the split-off record (saved), or null when the held machine left no MAC of its own.
 */
export async function splitHeldClaim(ctx: CoreContext, e: NodeDoc, mac: string): Promise<NodeDoc | null> {
  const row = e.manifest_held_row;
  if (!row || !e.manifest) return null;
  const theirs = e.macs.filter((m) => !row.macs.includes(m));
  if (theirs.length === 0) return null;
  const heldFor = e.boot_mac !== null && theirs.includes(e.boot_mac) ? e.boot_mac : theirs[0]!;
  // Not charged to the creation budgets: the record existed before the claim folded it in.
  const f = ctx.repo.create({ macs: theirs, boot_mac: heldFor, approved: !ctx.settings.get().approval_required }, ctx.now());
  const boundByHand = e.policy !== null;
  for (const k of [...MACHINE_FIELDS, ...LATER_MACHINE_FIELDS]) {
    // A policy the operator bound on the record during the hold stays with the record, in its state.
    if (boundByHand && (k === 'state' || k === 'reboot_sent_at')) continue;
    swap(e, f, k);
  }
  if (boundByHand) f.state = f.registered_at ? 'registered' : 'discovered';
  // An install token a binding on the row's record gave the held machine is not its own.
  clearInstall(f);
  f.uuid = e.uuid !== row.uuid ? e.uuid : null;
  f.serial = e.serial !== row.serial ? e.serial : null;
  f.conflicts = e.conflicts ?? [];
  e.uuid = row.uuid;
  e.serial = row.serial;
  e.macs = e.macs.filter((m) => row.macs.includes(m));
  e.boot_mac = mac;
  e.conflicts = [];
  // The notes were about the held machine: its claim and what it reported differently from the row.
  e.manifest = { ...e.manifest, mismatch: [] };
  endHold(e);
  const facts = await ctx.store.facts.findOne({ _id: String(e.id) });
  if (facts) {
    await ctx.store.facts.put({ ...facts, _id: String(f.id) });
    await ctx.store.facts.remove({ _id: String(e.id) });
  }
  const named: Overlap[] = row.matched.flatMap((field) => {
    const value = row[field];
    return value ? [{ node_id: e.id, field, value }] : [];
  });
  recordConflicts(ctx, f, named);
  await ctx.repo.save(f);
  const what = named.map((o) => `${o.field} ${o.value}`).join(' and ') || 'identifiers';
  ctx.events.emit('node.claimed', {
    node_id: e.id,
    mac,
    message:
      `${mac}, a MAC manifest row ${e.manifest.row} lists, claimed the record while its claim by ${what} alone was held for ` +
      `${heldFor}: another machine named this row's ${what} (possibly copied from DHCP, a forgery); ${theirs.join(', ')} ` +
      `split off to node ${f.id}, without the row's policy or address`,
    data: { row: e.manifest.row, mac, held_macs: theirs, split_to: f.id },
  });
  return f;
}
