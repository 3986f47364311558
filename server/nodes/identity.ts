/**
 * Node identity, pure: canonical MACs, identifiers that must not be trusted
 * (all-zero UUIDs, "To be filled by O.E.M." serials), and how a registration
 * is matched to existing records.
 */

/** Canonical MAC: lowercase, colon-separated; null if it is not a MAC. */
export function canonicalMac(mac: string | null | undefined): string | null {
  if (!mac) return null;
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12) return null;
  if (hex === '000000000000' || hex === 'ffffffffffff') return null;
  return hex.match(/../g)!.join(':');
}

const BAD_UUIDS = new Set([
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '03000200-0400-0500-0006-000700080009', // a well-known placeholder many boards ship with
]);

/** Canonical SMBIOS UUID (lowercase, dashed), or null when it is missing or a known placeholder. */
export function canonicalUuid(uuid: string | null | undefined): string | null {
  if (!uuid) return null;
  const hex = uuid.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 32) return null;
  const u = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (BAD_UUIDS.has(u) || /^(.)\1+$/.test(hex)) return null;
  return u;
}

const BAD_SERIAL =
  /^(|0+|1234567890|0123456789|none|n\/a|na|not specified|not applicable|default string|system serial number|to be filled by o\.e\.m\.|o\.e\.m\.|chassis serial number|serial|unknown|\.+|x+)$/i;

/** Canonical serial (trimmed), or null when it is a placeholder. */
export function canonicalSerial(serial: string | null | undefined): string | null {
  if (serial === null || serial === undefined) return null;
  const s = serial.trim();
  if (BAD_SERIAL.test(s)) return null;
  return s.slice(0, 256);
}

/** The identifiers a registration or a boot request carries. */
export interface Identity {
  macs: string[];
  uuid: string | null;
  serial: string | null;
}

/** Another stored record, as far as claiming is concerned. */
export interface IdentityRecord extends Identity {
  id: number;
}

/** One identifier another record holds. */
export interface Overlap {
  node_id: number;
  field: 'mac' | 'uuid' | 'serial';
  value: string;
}

/** What a node may take of what it reported, and what it may not. */
export interface ClaimDecision {
  /** MACs no other record holds: added to the reporting node. */
  macs: string[];
  /** The UUID, when no other record holds it (null: keep what the node had). */
  uuid: string | null;
  /** The serial, when no other record holds it (null: keep what the node had). */
  serial: string | null;
  /** Identifiers other records hold: not taken, stored as conflicts (docs/identity.md 1). */
  overlaps: Overlap[];
}

/**
 * docs/identity.md 1, "claimed, never taken": what a node reports (`incoming`) is added to its own record
 * only where no other record (`others`, every record sharing an identifier, the node itself excluded)
 * holds it. Overlaps are never resolved here, whatever matches (a UUID and serial that agree are in a
 * broadcast DHCP packet anyone on the rack can read): the operator merges or keeps apart.
 */
export function decideClaims(incoming: Identity, others: readonly IdentityRecord[]): ClaimDecision {
  const overlaps: Overlap[] = [];
  const macs: string[] = [];
  for (const m of incoming.macs) {
    const holder = others.find((o) => o.macs.includes(m));
    if (holder) overlaps.push({ node_id: holder.id, field: 'mac', value: m });
    else macs.push(m);
  }
  const hw = (field: 'uuid' | 'serial', v: string | null): string | null => {
    if (v === null) return null;
    const holders = others.filter((o) => o[field] === v);
    for (const o of holders) overlaps.push({ node_id: o.id, field, value: v });
    return holders.length === 0 ? v : null;
  };
  return { macs, uuid: hw('uuid', incoming.uuid), serial: hw('serial', incoming.serial), overlaps };
}
