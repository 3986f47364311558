/**
 * Address pools from the config: the main range on the NIC's subnet plus extra
 * pools for relayed subnets (`--pool SUBNET/PREFIX:START-END`, chosen by giaddr,
 * RFC 2131 4.3.1). Parsing and validation happen at config load. Pure.
 */
import { ccError } from '../errors/cc-error.ts';
import { intToIp, ipToInt, prefixMask } from '../net/ipv4.ts';
import { makePool, type Pool } from './lease-table.ts';

/** One extra pool as the config holds it. */
export interface PoolSpec {
  /** Network address of the relayed subnet. */
  subnet: string;
  prefix: number;
  start: string;
  end: string;
}

/** What pool checks need from the config. */
export interface PoolConfig {
  dhcp: 'full' | 'proxy' | 'off';
  address: { ip: string; prefix: number } | null;
  range: { start: string; end: string } | null;
  pools: readonly PoolSpec[];
}

/** Smallest and largest relayed subnet: a /16 bounds the address scan per DISCOVER to 65,536; a /30 still has two hosts. */
export const POOL_PREFIX_MIN = 16;
/** See POOL_PREFIX_MIN. */
export const POOL_PREFIX_MAX = 30;

const IP = String.raw`(\d{1,3}(?:\.\d{1,3}){3})`;

function fail(spec: string, why: string): never {
  throw ccError('CC_ERR_POOL_INVALID', `"${spec}": ${why}`);
}

/** Parse the flag form `SUBNET/PREFIX:START-END`, e.g. `10.20.0.0/24:10.20.0.10-10.20.0.200`. */
export function parsePoolFlag(spec: string): PoolSpec {
  const m = new RegExp(`^${IP}/(\\d{1,2}):${IP}-${IP}$`).exec(spec);
  if (!m) return fail(spec, 'write SUBNET/PREFIX:START-END, e.g. 10.20.0.0/24:10.20.0.10-10.20.0.200');
  const p = { subnet: m[1]!, prefix: Number(m[2]), start: m[3]!, end: m[4]! };
  checkPool(p, spec);
  return p;
}

/** One pool on its own: a real network address, a sane size, the range inside it and off its edges. */
function checkPool(p: PoolSpec, spec: string): void {
  const net = ipToInt(p.subnet);
  const s = ipToInt(p.start);
  const e = ipToInt(p.end);
  if (net === null || s === null || e === null) fail(spec, 'an address is not a valid IPv4 address');
  if (p.prefix < POOL_PREFIX_MIN || p.prefix > POOL_PREFIX_MAX) fail(spec, `the prefix must be /${POOL_PREFIX_MIN} to /${POOL_PREFIX_MAX}`);
  const mask = prefixMask(p.prefix);
  if ((net & mask) >>> 0 !== net)
    fail(spec, `${p.subnet} is not a network address for /${p.prefix} (did you mean ${intToIp((net & mask) >>> 0)}?)`);
  const bcast = (net | ~mask) >>> 0;
  for (const [what, v] of [
    ['start', s],
    ['end', e],
  ] as const) {
    if ((v & mask) >>> 0 !== net) fail(spec, `the ${what} ${intToIp(v)} is outside ${p.subnet}/${p.prefix}`);
    if (v === net || v === bcast) fail(spec, `the ${what} ${intToIp(v)} is the network or broadcast address`);
  }
  if (s > e) fail(spec, 'START is after END');
}

/** Whole-config checks: pools need full mode, and no two pools' subnets overlap (giaddr must pick one). */
export function checkPools(c: PoolConfig): void {
  if (c.pools.length === 0) return;
  const first = c.pools[0]!;
  const label = (p: PoolSpec) => `${p.subnet}/${p.prefix}:${p.start}-${p.end}`;
  if (c.dhcp !== 'full') fail(label(first), 'extra pools need --dhcp full (proxyDHCP hands out no addresses)');
  const nets: { name: string; net: number; prefix: number }[] = [];
  if (c.address) {
    const a = ipToInt(c.address.ip) ?? 0;
    nets.push({
      name: `the provisioning subnet ${c.address.ip}/${c.address.prefix}`,
      net: (a & prefixMask(c.address.prefix)) >>> 0,
      prefix: c.address.prefix,
    });
  }
  for (const p of c.pools) {
    checkPool(p, label(p));
    const net = ipToInt(p.subnet) as number;
    for (const o of nets) {
      const m = prefixMask(Math.min(o.prefix, p.prefix));
      if ((net & m) >>> 0 === (o.net & m) >>> 0) fail(label(p), `its subnet overlaps ${o.name}`);
    }
    nets.push({ name: `the pool ${label(p)}`, net, prefix: p.prefix });
  }
}

/** The pools a full server serves: `main` on the NIC's subnet, then each relayed subnet (named SUBNET/PREFIX). */
export function poolsFor(c: PoolConfig): Pool[] {
  if (c.dhcp !== 'full' || !c.range || !c.address) return [];
  return [
    makePool('main', c.range.start, c.range.end, c.address.prefix),
    ...c.pools.map((p) => makePool(`${p.subnet}/${p.prefix}`, p.start, p.end, p.prefix)),
  ];
}
