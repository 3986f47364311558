/** `ip -j addr` / `ip -j link` (or their text forms) -> interfaces. Pure. */
import { arr, int, lines, looksJson, normMac, rec, str, tryJson } from './kv-text.ts';

/** One interface as iproute2 saw it. */
export interface IpIface {
  name: string;
  mac?: string;
  link_type?: string;
  mtu?: number;
  up: boolean;
  carrier: boolean;
  master?: string;
  kind?: string;
  ipv4: string[];
  ipv6: string[];
}

const MAX_IFACES = 1024;

function fromJson(text: string): IpIface[] {
  const out: IpIface[] = [];
  for (const e of arr(tryJson(text)).slice(0, MAX_IFACES)) {
    const o = rec(e);
    const name = str(o['ifname']);
    if (!name) continue;
    const flags = arr(o['flags']).map(String);
    const v4: string[] = [];
    const v6: string[] = [];
    for (const a of arr(o['addr_info']).slice(0, 64)) {
      const ai = rec(a);
      const local = str(ai['local']);
      const plen = str(ai['prefixlen']);
      if (!local) continue;
      (str(ai['family']) === 'inet6' ? v6 : v4).push(plen ? `${local}/${plen}` : local);
    }
    out.push({
      name,
      mac: normMac(str(o['address'])),
      link_type: str(o['link_type']),
      mtu: int(str(o['mtu'])),
      up: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      master: str(o['master']),
      kind: str(rec(o['linkinfo'])['info_kind']),
      ipv4: v4,
      ipv6: v6,
    });
  }
  return out;
}

function fromText(text: string): IpIface[] {
  const out: IpIface[] = [];
  let cur: IpIface | null = null;
  // `ip -o` joins an interface's lines with a backslash: split them back.
  for (const line of lines(text.replace(/\\\s{2,}/g, '\n    '))) {
    const h = /^\d+:\s+([^:\s]+):\s+<([^>]*)>(.*)$/.exec(line);
    if (h) {
      if (out.length >= MAX_IFACES) break;
      const flags = h[2]!.split(',');
      const rest = h[3]!;
      cur = {
        // "eth0.100@eth0": the part after the last @ names the parent link, not this one.
        name: h[1]!.includes('@') ? h[1]!.slice(0, h[1]!.lastIndexOf('@')) : h[1]!,
        up: flags.includes('UP'),
        carrier: flags.includes('LOWER_UP'),
        mtu: int(/\bmtu (\d+)/.exec(rest)?.[1]),
        master: /\bmaster (\S+)/.exec(rest)?.[1],
        ipv4: [],
        ipv6: [],
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const l = /^\s+link\/(\S+)\s+(\S+)/.exec(line);
    if (l) {
      cur.link_type = l[1];
      cur.mac = normMac(l[2]);
      continue;
    }
    const a = /^\s+(inet6?)\s+(\S+)/.exec(line);
    if (a && cur.ipv4.length + cur.ipv6.length < 128) (a[1] === 'inet' ? cur.ipv4 : cur.ipv6).push(a[2]!);
    const k = /^\s+(vlan|bridge|bond|vxlan|veth|tun|openvswitch)\b/.exec(line);
    if (k && !cur.kind) cur.kind = k[1];
  }
  // Text dumps may repeat an interface (addr then link): merge by name.
  const byName = new Map<string, IpIface>();
  for (const i of out) {
    const prev = byName.get(i.name);
    if (!prev) byName.set(i.name, i);
    else {
      prev.mac ??= i.mac;
      prev.kind ??= i.kind;
      if (prev.ipv4.length === 0) prev.ipv4 = i.ipv4;
      if (prev.ipv6.length === 0) prev.ipv6 = i.ipv6;
    }
  }
  return [...byName.values()];
}

/** Parse one ip output (`ip -j addr`, `ip -j -d link`, or their text forms). */
export function parseIpText(text: string): IpIface[] {
  return looksJson(text) ? fromJson(text) : fromText(text);
}

/** Merge a second output (e.g. `ip -j -d link`) into the first by name: fills what the first lacks. */
export function mergeIpLink(base: IpIface[], link: IpIface[]): IpIface[] {
  const byName = new Map(base.map((i) => [i.name, i]));
  for (const l of link) {
    const b = byName.get(l.name);
    if (!b) {
      base.push(l);
      byName.set(l.name, l);
    } else {
      b.mac ??= l.mac;
      b.kind ??= l.kind;
      b.master ??= l.master;
      b.link_type ??= l.link_type;
    }
  }
  return base;
}

/** Parse ip output (JSON or text); merge a second output (e.g. `ip -j link`) into the first by name. */
export function parseIp(addrText: string, linkText?: string): IpIface[] {
  const base = parseIpText(addrText);
  return linkText ? mergeIpLink(base, parseIpText(linkText)) : base;
}

/** True for an interface that is a physical-looking Ethernet port (not lo, bridge, bond, vlan, veth, tap). */
export function isPhysicalEther(i: IpIface): boolean {
  if (i.link_type !== undefined && i.link_type !== 'ether') return false;
  if (i.kind) return false;
  return !/^(lo|br|bond|docker|veth|virbr|tap|tun|vnet|ovs|vxlan|team|cni|flannel|cali)/.test(i.name) && !i.name.includes('.');
}
