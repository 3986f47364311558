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

/** A stored record, as far as matching is concerned. */
export interface IdentityRecord extends Identity {
  id: number;
  registered: boolean;
}

/** What to do with a registration given the records that share an identifier. */
export interface MatchDecision {
  /** The node that becomes (or stays) the registered one; null = create new. */
  target: number | null;
  /** Boot-time records (never registered) to fold into the target. */
  absorb: number[];
  /** Registered records that share an identifier but are different machines. */
  conflicts: { node_id: number; field: 'uuid' | 'serial' | 'mac'; value: string }[];
}

/**
 * Decide how a registration maps onto existing records. Preference: the node id
 * the boot script gave (`claimed`), then a record matching by MAC, then by UUID
 * and serial together. Registered records that match only on UUID or serial but
 * not on any MAC are conflicts (cheap boards share UUIDs), never silently merged.
 */
export function decideMatch(incoming: Identity, claimed: number | null, candidates: IdentityRecord[]): MatchDecision {
  const macSet = new Set(incoming.macs);
  const byMac = candidates.filter((c) => c.macs.some((m) => macSet.has(m)));
  const byHw = candidates.filter(
    (c) => incoming.uuid !== null && c.uuid === incoming.uuid && incoming.serial !== null && c.serial === incoming.serial,
  );
  let target: number | null = null;
  if (claimed !== null && candidates.some((c) => c.id === claimed)) target = claimed;
  else target = byMac.find((c) => c.registered)?.id ?? byMac[0]?.id ?? byHw[0]?.id ?? null;

  const absorb: number[] = [];
  const conflicts: MatchDecision['conflicts'] = [];
  for (const c of candidates) {
    if (c.id === target) continue;
    const sharesMac = c.macs.some((m) => macSet.has(m));
    if (!c.registered && sharesMac) {
      absorb.push(c.id);
      continue;
    }
    if (sharesMac) {
      const mac = c.macs.find((m) => macSet.has(m))!;
      if (c.uuid && incoming.uuid && c.uuid === incoming.uuid && c.serial === incoming.serial) {
        // Same machine registered twice under two ids (e.g. store restored): fold it in.
        absorb.push(c.id);
      } else conflicts.push({ node_id: c.id, field: 'mac', value: mac });
      continue;
    }
    if (incoming.uuid && c.uuid === incoming.uuid) conflicts.push({ node_id: c.id, field: 'uuid', value: incoming.uuid });
    else if (incoming.serial && c.serial === incoming.serial) conflicts.push({ node_id: c.id, field: 'serial', value: incoming.serial });
  }
  return { target, absorb, conflicts };
}
