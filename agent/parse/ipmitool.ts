/** `ipmitool lan print`, `mc info` and `fru print` -> BMC facts. Pure. */
import { clean, colonPairs, lines, normMac, splitPair } from './kv-text.ts';

/** BMC network settings (`ipmitool lan print`). */
export interface IpmiLan {
  ipv4?: string;
  mac?: string;
  ip_source?: string;
  netmask?: string;
  gateway?: string;
  vlan?: string;
}

/** Parse `ipmitool lan print`; an address of 0.0.0.0 means "none yet". */
export function parseIpmiLan(text: string): IpmiLan {
  const kv = colonPairs(text);
  const ip = clean(kv.get('IP Address'));
  return {
    ipv4: ip && ip !== '0.0.0.0' ? ip : undefined,
    mac: normMac(kv.get('MAC Address')),
    ip_source: clean(kv.get('IP Address Source')),
    netmask: clean(kv.get('Subnet Mask')),
    gateway: clean(kv.get('Default Gateway IP')),
    vlan: clean(kv.get('802.1q VLAN ID')),
  };
}

/** BMC identity (`ipmitool mc info`). */
export interface IpmiMc {
  firmware_version?: string;
  ipmi_version?: string;
  manufacturer?: string;
  manufacturer_id?: string;
}

/** Parse `ipmitool mc info`. */
export function parseIpmiMc(text: string): IpmiMc {
  const kv = colonPairs(text);
  return {
    firmware_version: clean(kv.get('Firmware Revision')),
    ipmi_version: clean(kv.get('IPMI Version')),
    manufacturer: clean(kv.get('Manufacturer Name')),
    manufacturer_id: clean(kv.get('Manufacturer ID')),
  };
}

/** One FRU device (`ipmitool fru print`). */
export type FruDevice = Record<string, string>;

/** Parse `ipmitool fru print` into devices, keyed by their description. */
export function parseIpmiFru(text: string): FruDevice[] {
  const out: FruDevice[] = [];
  let cur: FruDevice | null = null;
  for (const line of lines(text)) {
    if (out.length > 256) break;
    const p = splitPair(line);
    if (!p) continue;
    if (p[0] === 'FRU Device Description') {
      cur = { 'FRU Device Description': p[1] };
      out.push(cur);
    } else if (cur && !(p[0] in cur)) cur[p[0]] = p[1];
  }
  return out;
}

/** Product serial and name from the builtin FRU (ID 0), else the first device with them. */
export function fruProduct(devs: FruDevice[]): { serial?: string; product?: string; manufacturer?: string } {
  const builtin = devs.find((d) => /\(ID 0\)/.test(d['FRU Device Description'] ?? '')) ?? devs[0];
  if (!builtin) return {};
  return {
    serial: clean(builtin['Product Serial'] ?? builtin['Chassis Serial'] ?? builtin['Board Serial']),
    product: clean(builtin['Product Name'] ?? builtin['Board Product']),
    manufacturer: clean(builtin['Product Manufacturer'] ?? builtin['Board Mfg']),
  };
}
