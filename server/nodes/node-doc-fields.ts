/**
 * Node record fields of docs/identity.md (conflicts, approval, token lifetimes), declared beside the
 * code that owns them. They extend the stored NodeDoc (server/store/docs.ts) by declaration merging;
 * stored records written before them simply lack them (every one is optional).
 */
import type { NodeConflict } from '../../contract/index.ts';

declare module '../store/docs.ts' {
  interface NodeDoc {
    /** Identifiers this node reported that other records hold (docs/identity.md 1). */
    conflicts?: NodeConflict[];
    /** Records the operator said are other machines: their overlaps are no longer raised as conflicts. */
    kept_apart?: number[];
    /** Approved by the operator or by an explicit bind (docs/identity.md 3). */
    approved?: boolean;
    /** When the current enrolment token stops being accepted (ISO time). */
    enrol_token_expires_at?: string | null;
    /** The enrolment token went to an address leased to this node (full DHCP): its NICs may register from any new address. */
    enrol_token_verified?: boolean;
    /** sha256 of the current install's token; the token itself is only in the script /boot rendered. */
    install_token_hash?: string | null;
    /** When the install token stops being accepted (ISO time). */
    install_token_expires_at?: string | null;
    /** false between the agent's fast register and its complete one; absent (older records) means complete. */
    facts_complete?: boolean;
  }
}

/** Most conflicts kept on one node: a registration may list 256 MACs; the UI needs a few to act on. */
export const MAX_CONFLICTS_PER_NODE = 64;
