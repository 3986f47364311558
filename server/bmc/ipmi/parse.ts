/**
 * Pure parsers of ipmitool's text output. ipmitool prints `Key : value`
 * lines with continuation lines indented under them; vendors add, drop and
 * reorder keys, so every parser looks keys up by name and never by position.
 */
import type { PowerState } from '../../../contract/index.ts';
import { ccError } from '../../errors/cc-error.ts';
// The Key : value layout and `lan print` are read in-band by the agent too: they live in agent/parse (pure,
// imported by the server; docs/development.md "Shared pure parsers").
import { firstValue as first, parseKeyValues } from '../../../agent/parse/ipmitool-kv.ts';

/** `chassis power status` -> on/off ("Chassis Power is on"); anything else is CC_ERR_BMC_PROTOCOL. */
export function parsePowerStatus(stdout: string): PowerState {
  const m = /Chassis Power is (on|off)\b/i.exec(stdout);
  if (!m) throw ccError('CC_ERR_BMC_PROTOCOL', `ipmitool power status printed ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  return m[1]!.toLowerCase() as PowerState;
}

/** What `mc info` says about the BMC. */
export interface McInfo {
  firmware: string;
  ipmi_version: string;
  manufacturer_id: string;
  manufacturer: string;
  product_id: string;
}

/** `mc info` (IPMI 2.0 Get Device ID, 20.1): firmware, IPMI version and manufacturer. */
export function parseMcInfo(stdout: string): McInfo {
  const kv = parseKeyValues(stdout);
  const info: McInfo = {
    firmware: first(kv['Firmware Revision']),
    ipmi_version: first(kv['IPMI Version']),
    manufacturer_id: first(kv['Manufacturer ID']),
    manufacturer: first(kv['Manufacturer Name']),
    product_id: first(kv['Product ID']).replace(/\s*\(.*\)$/, ''),
  };
  if (!info.firmware && !info.ipmi_version) throw ccError('CC_ERR_BMC_PROTOCOL', 'ipmitool mc info printed no firmware or IPMI version');
  return info;
}
