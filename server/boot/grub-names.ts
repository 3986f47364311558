/**
 * The name GRUB asks for its node's configuration (grub-scripts.ts bootstrap), read back. Pure: the name
 * comes from the rack, so every part is checked and anything odd is refused or dropped, never trusted.
 */
import { GRUB_NODE_PREFIX } from './grub-scripts.ts';

/** What the name says: the boot NIC's MAC, GRUB's CPU, and the SMBIOS UUID and serial when GRUB had plain ones. */
export interface GrubNodeName {
  mac: string;
  cpu: string;
  uuid: string | undefined;
  serial: string | undefined;
}

const PART = /^[A-Za-z0-9._:-]{1,64}$/;

/** `grub/node/MAC/CPU/UUID/SERIAL.cfg` (`-` = not known), or null when `name` is not one. */
export function parseGrubNodeName(name: string): GrubNodeName | null {
  if (!name.startsWith(GRUB_NODE_PREFIX) || !name.endsWith('.cfg')) return null;
  const parts = name.slice(GRUB_NODE_PREFIX.length, -'.cfg'.length).split('/');
  if (parts.length !== 4 || !parts.every((p) => PART.test(p))) return null;
  const [mac, cpu, uuid, serial] = parts as [string, string, string, string];
  return { mac, cpu, uuid: uuid === '-' ? undefined : uuid, serial: serial === '-' ? undefined : serial };
}
