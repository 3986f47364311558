/**
 * A node's BMC in a merge (docs/identity.md 1): its password is sealed for the record it belongs to
 * (`node/<id>/bmc.password`, server/bmc/bmc-record.ts), so the BMC of `from` can only move to `into`
 * sealed again for `into`. `into` keeps its own BMC when it has one; `from`'s is then dropped, and the
 * merge's event says so.
 */
import type { NodeDoc } from '../store/docs.ts';
import { bmcPasswordRecord } from '../bmc/bmc-record.ts';
import { CcError } from '../errors/cc-error.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import '../bmc/node-bmc-fields.ts';

/** A password sealed for `fromId`, sealed again for `intoId`; '' stays '' (none stored); null when it does not open. */
function resealed(box: SecretBox, envelope: string, fromId: number, intoId: number): string | null {
  if (envelope === '') return '';
  try {
    return box.seal(box.open(envelope, bmcPasswordRecord(fromId)), bmcPasswordRecord(intoId));
  } catch (e) {
    // CC_ERR_SECRET_UNREADABLE (key file replaced): `from` could not use it either; the BMC moves without it.
    if (e instanceof CcError) return null;
    throw e;
  }
}

/**
 * Move `from`'s BMC fields (the BMC, its power state and Redfish detection, an in-band enrolment) onto `into`
 * where `into` has no BMC (call under the core lock, before `from` is deleted; the caller saves). Returns what
 * the operator should read in the merge's event, or '' when `from` had no BMC fields.
 */
export function mergeBmc(box: SecretBox, into: NodeDoc, from: NodeDoc): string {
  const where = (b: NonNullable<NodeDoc['bmc']>) => `${b.driver} ${b.address}:${b.port}`;
  const enrolment = from.bmc_enrolment ?? null;
  if (from.bmc && into.bmc)
    return `node ${from.id}'s BMC ${where(from.bmc)} was dropped: node ${into.id} keeps its own (${where(into.bmc)})`;
  if (from.bmc) {
    const password = resealed(box, from.bmc.password_enc, from.id, into.id);
    into.bmc = { ...from.bmc, password_enc: password ?? '' };
    into.power = from.power ?? null;
    into.bmc_redfish = from.bmc_redfish ?? null;
    // An enrolment `into` had was never applied (it has no BMC): the BMC of `from` supersedes it, as an operator's entry does.
    into.bmc_enrolment = enrolment && { ...enrolment, password_enc: resealed(box, enrolment.password_enc, from.id, into.id) ?? '' };
    const moved = `node ${from.id}'s BMC ${where(from.bmc)} moved to node ${into.id}`;
    return password === null ? `${moved}; its stored password could not be decrypted: enter it again on node ${into.id}'s BMC form` : moved;
  }
  if (!enrolment) return '';
  if (into.bmc || into.bmc_enrolment)
    return `node ${from.id}'s in-band BMC enrolment (${enrolment.state}) was dropped: node ${into.id} has its own`;
  into.bmc_enrolment = { ...enrolment, password_enc: resealed(box, enrolment.password_enc, from.id, into.id) ?? '' };
  return `node ${from.id}'s in-band BMC enrolment (${enrolment.state}) moved to node ${into.id}`;
}
