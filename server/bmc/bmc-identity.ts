/**
 * Read a machine's identifiers from its BMC (driver `identity()`), made canonical the way registration makes
 * what a machine reports canonical (server/nodes/identity.ts), so the record made from them is claimed by the
 * machine's own first boot (docs/identity.md 1). Placeholders (all-zero UUIDs, "To be filled by O.E.M.") are
 * dropped with a warning: a placeholder would let every machine of that model claim the record.
 */
import type { BmcIdentity } from '../../contract/index.ts';
import { ccError } from '../errors/cc-error.ts';
import { canonicalMac, canonicalSerial, canonicalUuid } from '../nodes/identity.ts';
import type { BmcDriver } from './driver.ts';

/** Identifiers and what the operator should know about them. */
export interface IdentityRead {
  identity: BmcIdentity;
  warnings: string[];
}

/** Canonical identifiers from what a driver returned (pure). */
export function canonicalIdentity(raw: BmcIdentity, warnings: readonly string[]): IdentityRead {
  const out = [...warnings];
  const uuid = canonicalUuid(raw.uuid);
  if (raw.uuid && !uuid) out.push(`the BMC's UUID ${JSON.stringify(raw.uuid.slice(0, 40))} is a placeholder or not a UUID: not used`);
  const serial = canonicalSerial(raw.serial);
  if (raw.serial && !serial) out.push(`the BMC's serial ${JSON.stringify(raw.serial.slice(0, 40))} is a placeholder: not used`);
  const macs = [...new Set(raw.macs.map(canonicalMac).filter((m): m is string => m !== null))];
  const sources = raw.sources.filter((s) => (s.startsWith('uuid') ? uuid : s.startsWith('serial') ? serial : macs.length > 0));
  return { identity: { uuid, serial, macs, sources }, warnings: out };
}

/** Ask one BMC; CC_ERR_BMC_NO_IDENTITY when nothing usable came back. The driver is closed either way. */
export async function readIdentity(driver: BmcDriver, where: string): Promise<IdentityRead> {
  try {
    const raw = await driver.identity();
    const read = canonicalIdentity(raw, raw.warnings);
    const id = read.identity;
    if (!id.uuid && !id.serial && id.macs.length === 0)
      throw ccError('CC_ERR_BMC_NO_IDENTITY', `${where}${read.warnings.length ? `: ${read.warnings.join('; ')}` : ''}`);
    return read;
  } finally {
    await driver.close();
  }
}
