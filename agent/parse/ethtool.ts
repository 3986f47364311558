/** `ethtool -i NIC` -> driver details. Pure. */
import { clean, colonPairs } from './kv-text.ts';

/** Driver details of one NIC. */
export interface EthtoolInfo {
  driver?: string;
  version?: string;
  firmware_version?: string;
  bus_info?: string;
}

/** Parse `ethtool -i`; null when ethtool could not get driver information. */
export function parseEthtoolInfo(text: string): EthtoolInfo | null {
  const kv = colonPairs(text);
  const driver = clean(kv.get('driver'));
  if (!driver) return null;
  return {
    driver,
    version: clean(kv.get('version')),
    firmware_version: clean(kv.get('firmware-version')),
    bus_info: clean(kv.get('bus-info')),
  };
}
