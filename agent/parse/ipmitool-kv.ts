/**
 * Pure parsers of ipmitool's `Key : value` text, shared by the agent (in-band enrolment reads `lan print` over
 * KCS) and the server's IPMI driver (`mc info` over LAN). ipmitool prints `Key : value` lines with
 * continuation lines indented under them; vendors add, drop and reorder keys, so every parser looks keys up
 * by name and never by position. Nothing here imports the server: the agent may not.
 */
import { lines } from './kv-text.ts';

/** One `Key : value` block: a value, or the list of continuation lines under an empty value. */
export type KeyValues = Record<string, string | string[]>;

/** Parse ipmitool's `Key : value` layout (mc info, lan print, fru print); unknown shapes are skipped, never thrown. */
export function parseKeyValues(text: string): KeyValues {
  const out: KeyValues = {};
  let last: string | null = null;
  for (const raw of lines(text)) {
    if (raw.trim() === '') continue;
    const m = /^(\S[^:]*?)\s*:\s?(.*)$/.exec(raw);
    if (m && !/^\s/.test(raw)) {
      last = m[1]!.trim();
      const v = m[2]!.trim();
      out[last] = v === '' ? [] : v;
      continue;
    }
    // An indented line continues the key above: `: User : MD5` (lan print) or `    0x01` (mc info).
    if (last === null) continue;
    const cont = raw.trim().replace(/^:\s*/, '');
    const cur = out[last];
    out[last] = Array.isArray(cur) ? [...cur, cont] : [cur ?? '', cont].filter((s) => s !== '');
  }
  return out;
}

/** The first value of a key (the value itself, or the first continuation line); '' when absent. */
export const firstValue = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const first = firstValue;

/** What `lan print` says about the BMC's own network port (for in-band enrolment). */
export interface LanInfo {
  ip_source: string;
  /** null when the BMC has no address (0.0.0.0 or empty): the operator must enter one. */
  ip: string | null;
  netmask: string | null;
  gateway: string | null;
  mac: string | null;
  vlan: number | null;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const realIp = (s: string): string | null => {
  const m = IPV4.exec(s);
  if (!m || s === '0.0.0.0' || m.slice(1).some((o) => Number(o) > 255)) return null;
  return s;
};
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** `lan print` (IPMI 2.0 LAN configuration parameters, 23.2); unset or zero addresses become null. */
export function parseLanPrint(stdout: string): LanInfo {
  const kv = parseKeyValues(stdout);
  const mac = first(kv['MAC Address']).toLowerCase();
  const vlan = /^\d+$/.exec(first(kv['802.1q VLAN ID']));
  return {
    ip_source: first(kv['IP Address Source']),
    ip: realIp(first(kv['IP Address'])),
    netmask: realIp(first(kv['Subnet Mask'])),
    gateway: realIp(first(kv['Default Gateway IP'])),
    mac: MAC.test(mac) && mac !== '00:00:00:00:00:00' ? mac : null,
    vlan: vlan ? Number(vlan[0]) : null,
  };
}
