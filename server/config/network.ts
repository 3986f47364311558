/**
 * The network part of the config (NIC, address, DHCP mode, pool): one resolver
 * used by start-up (`loadServeConfig`) and by the Setup screen's apply
 * (`patchConfig`), so both validate the same way.
 */
import type os from 'node:os';
import { ccError } from '../errors/cc-error.ts';
import { ipToInt, intToIp, inSubnet } from '../net/ipv4.ts';
import type { Config } from './schema.ts';

/** What the loader needs to know about the machine (injected in tests). */
export interface MachineView {
  interfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  ifindex(name: string): number | null;
  env: NodeJS.ProcessEnv;
}

/** The network choices as the operator spells them (flags or the Setup screen). */
export interface NetworkInput {
  iface?: string;
  address?: string;
  dhcp?: string;
  range?: string;
  force?: boolean;
}

/** The config fields the network choices decide. */
export type NetworkFields = Pick<Config, 'iface' | 'ifindex' | 'address' | 'dhcp' | 'range' | 'force' | 'http' | 'publicUrl'>;

/** Parse IP/PREFIX. */
export function parseAddress(v: string): { ip: string; prefix: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(v);
  if (!m || ipToInt(m[1]!) === null || Number(m[2]) < 1 || Number(m[2]) > 32)
    throw ccError('CC_ERR_CONFIG_INVALID', `--address must be IP/PREFIX like 10.0.0.1/24, got "${v}"`);
  return { ip: m[1]!, prefix: Number(m[2]) };
}

/** Check `v` is one of `allowed` (or return the default). */
export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v))
    throw ccError('CC_ERR_CONFIG_INVALID', `--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** Resolve the NIC against the machine and validate address, mode and pool; the node plane follows the address. */
export function resolveNetwork(n: NetworkInput, httpPort: number, machine: MachineView): NetworkFields {
  const iface = n.iface ?? null;
  let address = n.address ? parseAddress(n.address) : null;
  let ifindex: number | null = null;
  if (iface) {
    const addrs = machine.interfaces()[iface];
    ifindex = machine.ifindex(iface);
    if (!addrs || ifindex === null) {
      const names = Object.keys(machine.interfaces()).join(', ');
      throw ccError('CC_ERR_IFACE_NOT_FOUND', `"${iface}" (this machine has: ${names})`);
    }
    if (!address) {
      const v4 = addrs.find((a) => a.family === 'IPv4');
      if (!v4 || !v4.cidr) throw ccError('CC_ERR_IFACE_NO_ADDRESS', iface);
      address = parseAddress(v4.cidr);
    }
  }
  let range: { start: string; end: string } | null = null;
  if (n.range) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})$/.exec(n.range);
    const a = m ? ipToInt(m[1]!) : null;
    const b = m ? ipToInt(m[2]!) : null;
    if (a === null || b === null || a > b) throw ccError('CC_ERR_RANGE_INVALID', `"${n.range}"`);
    if (address && (!inSubnet(a, address.ip, address.prefix) || !inSubnet(b, address.ip, address.prefix)))
      throw ccError('CC_ERR_RANGE_INVALID', `${n.range} is outside ${address.ip}/${address.prefix}`);
    range = { start: intToIp(a), end: intToIp(b) };
  }
  const dhcp = oneOf('dhcp', n.dhcp, ['full', 'proxy', 'off'] as const, iface ? (range ? 'full' : 'proxy') : 'off');
  if (dhcp === 'full' && !range) throw ccError('CC_ERR_CONFIG_INVALID', '--dhcp full needs --range START-END');
  if (dhcp !== 'off' && !iface) throw ccError('CC_ERR_CONFIG_INVALID', `--dhcp ${dhcp} needs --iface NAME`);
  const httpHost = address ? address.ip : '127.0.0.1';
  return {
    iface,
    ifindex,
    address,
    dhcp,
    range,
    force: Boolean(n.force),
    http: { host: httpHost, port: httpPort },
    publicUrl: `http://${httpHost}:${httpPort}`,
  };
}
