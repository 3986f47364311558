/**
 * Hardware for simulated nodes: profiles are replay folders of real tool
 * outputs (resources/lab-profiles), parsed once by the real agent code; each
 * node gets its own MACs, serials and UUID derived from the seed and its index.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Inventory } from '../../contract/node.ts';
import { readToolDir } from '../../agent/collect/replay.ts';
import { buildInventory } from '../../agent/facts/inventory.ts';
import { ccError } from '../errors/cc-error.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';

/** Where the shipped profiles live (from the install root: the same from the sources and from the dist bundle). */
export const DEFAULT_PROFILES_DIR = path.join(REPO_ROOT, 'resources', 'lab-profiles');

/** A parsed profile. */
export interface HardwareProfile {
  name: string;
  inventory: Inventory;
}

/** Parse every profile folder (sorted, so node i gets the same profile on every run). */
export async function loadProfiles(dir = DEFAULT_PROFILES_DIR): Promise<HardwareProfile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw ccError('CC_ERR_LAB_PROFILES', `cannot read ${dir}: ${(e as Error).message}`);
  }
  const names = entries
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const out: HardwareProfile[] = [];
  for (const name of names) {
    const inv = buildInventory(await readToolDir(path.join(dir, name)));
    if (inv.nics.length > 0) out.push({ name, inventory: inv });
  }
  if (out.length === 0) throw ccError('CC_ERR_LAB_PROFILES', `none in ${dir} has a NIC with a MAC`);
  return out;
}

/** 32 deterministic bytes for (seed, index, what). */
function bytes(seed: number, index: number, what: string): Buffer {
  return createHash('sha256').update(`${seed}/${index}/${what}`).digest();
}

/** A node's identity in the lab. */
export interface SimIdentity {
  profile: string;
  mac: string;
  serial: string;
  uuid: string;
}

/**
 * Give one node its own identity on top of a profile. MACs keep the profile's
 * vendor OUI; the low 24 bits carry the index (unique up to 2^20 nodes), so two
 * nodes never share one. NICs that shared a MAC (bond slaves) still do.
 */
export function personalize(p: HardwareProfile, seed: number, index: number): { inventory: Inventory; id: SimIdentity } {
  const inv = structuredClone(p.inventory);
  const macMap = new Map<string, string>();
  const salt = bytes(seed, 0, 'mac').readUIntBE(0, 3) & 0x0fffff;
  const newMac = (old: string): string => {
    const known = macMap.get(old);
    if (known) return known;
    const low = (((index ^ salt) & 0xfffff) << 4) | (macMap.size & 0xf);
    const oui = old.split(':').slice(0, 3).join(':');
    const mac = `${oui}:${[(low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    macMap.set(old, mac);
    return mac;
  };
  for (const n of inv.nics) n.mac = newMac(n.mac);
  const h = bytes(seed, index, 'id');
  const hex = h.toString('hex');
  const serial = `CC${hex.slice(0, 4).toUpperCase()}${String(index).padStart(6, '0')}`;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  inv.system.serial = serial;
  inv.system.uuid = uuid;
  if (inv.system.baseboard_serial !== undefined) inv.system.baseboard_serial = `${serial}B`;
  inv.disks.forEach((d, k) => {
    d.serial = `${serial}D${k}`;
    if (d.wwn) d.wwn = `0x5000${hex.slice(32, 44)}${k}`;
  });
  inv.memory.modules.forEach((m, k) => {
    if (m.serial) m.serial = `${hex.slice(40, 46).toUpperCase()}${k.toString(16)}`;
  });
  if (inv.bmc) {
    if (inv.bmc.mac) inv.bmc.mac = newMac(inv.bmc.mac);
    inv.bmc.ipv4 = `10.99.${(index >> 8) & 0xff}.${index & 0xff}`;
    if (inv.bmc.fru_serial) inv.bmc.fru_serial = serial;
  }
  return { inventory: inv, id: { profile: p.name, mac: inv.nics[0]!.mac, serial, uuid } };
}
