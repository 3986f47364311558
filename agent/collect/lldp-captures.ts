/**
 * LLDP neighbours from the microkernel's receive-only captures (build/microkernel/rootfs/lldp-capture writes
 * `/run/crashcart/lldp/NIC.pcap0` and `.pcap1`, a ring of two 1 MB files per NIC). The frames are decoded by
 * the pure codecs in agent/parse (pcap, LLDPDU); this file only reads the files and writes the result as the
 * JSON a replay folder keeps (`lldp-frames.json`), and reads that JSON back without trusting it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LldpNeighbour } from '../parse/lldp.ts';
import { neighboursFromCaptures } from '../parse/lldp-neighbour.ts';

/** Where lldp-capture writes, under the collection root. */
export const LLDP_CAPTURE_DIR = 'run/crashcart/lldp';
/** Capture files read at most (64 NICs x the two files of each ring). */
const MAX_FILES = 128;
/** A ring file is cut by tcpdump at 1 MB (-C 1); anything much larger was not written by it. */
const MAX_FILE_BYTES = 2 << 20;
const MAX_NICS = 256;
const MAX_TEXT = 255;

/** Read the capture files and decode the neighbours they hold as of `nowS` (JSON text; `{}` when none). */
export async function lldpCaptureText(root: string, nowS = Date.now() / 1000): Promise<string> {
  const dir = path.join(root, LLDP_CAPTURE_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = new Map<string, Uint8Array>();
  for (const name of names.filter((n) => /\.pcap\d*$/.test(n)).slice(0, MAX_FILES)) {
    const p = path.join(dir, name);
    const s = await stat(p).catch(() => null);
    if (!s?.isFile() || s.size > MAX_FILE_BYTES) continue;
    files.set(name, await readFile(p));
  }
  return JSON.stringify(neighboursFromCaptures(files, nowS).neighbours);
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, MAX_TEXT) : undefined);

/** `lldp-frames.json` -> neighbour per NIC. Pure; a replay file may be anything, so only known fields of the right type pass. */
export function parseLldpFrames(json: string): Record<string, LldpNeighbour> {
  const v: unknown = JSON.parse(json);
  const out: Record<string, LldpNeighbour> = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [nic, nb] of Object.entries(v).slice(0, MAX_NICS)) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(nic) || !nb || typeof nb !== 'object') continue;
    const r = nb as Record<string, unknown>;
    const vlan = typeof r.vlan === 'number' && Number.isInteger(r.vlan) && r.vlan > 0 && r.vlan < 4095 ? r.vlan : undefined;
    const n: LldpNeighbour = {
      switch_name: text(r.switch_name),
      switch_id: text(r.switch_id),
      port_id: text(r.port_id),
      port_descr: text(r.port_descr),
      vlan,
      mgmt_ip: text(r.mgmt_ip),
    };
    for (const k of Object.keys(n) as (keyof LldpNeighbour)[]) if (n[k] === undefined) delete n[k];
    out[nic] = n;
  }
  return out;
}
