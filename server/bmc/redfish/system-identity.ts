/**
 * The machine's identifiers in a Redfish ComputerSystem (DSP0268): `UUID` (the SMBIOS UUID, as the host reports
 * it), `SerialNumber`, and the host NICs' `MACAddress` (else `PermanentMACAddress`) of its EthernetInterfaces.
 * Pure: the answers may be anything a hostile BMC sends; only strings of the expected shapes are kept.
 */
import { arr, obj, odataId, str } from './answers.ts';

/** At most this many EthernetInterfaces are read (a BMC listing thousands is not describing one machine). */
export const MAX_SYSTEM_NICS = 32;

/** The EthernetInterface member paths a system lists, through the collection answer. */
export function nicMembers(collection: unknown): string[] {
  return arr(obj(collection)['Members'])
    .map(odataId)
    .filter((m): m is string => !!m)
    .slice(0, MAX_SYSTEM_NICS);
}

/** The MAC an EthernetInterface reports: the one in use, else the burnt-in one; null when it gives none. */
export function nicMac(nic: unknown): string | null {
  const o = obj(nic);
  return str(o['MACAddress']) ?? str(o['PermanentMACAddress']) ?? null;
}

/** UUID and serial of a ComputerSystem (cut to sane lengths; the caller canonicalises and drops placeholders). */
export function systemIds(sys: unknown): { uuid: string | null; serial: string | null } {
  const o = obj(sys);
  return { uuid: str(o['UUID'])?.slice(0, 64) ?? null, serial: str(o['SerialNumber'])?.slice(0, 256) ?? null };
}
