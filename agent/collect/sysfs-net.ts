/**
 * The network interfaces from /sys/class/net, as the JSON `ip -j addr` prints, so the ip row's parser reads it:
 * the fallback of the ipAddr row when iproute2 is missing, and what the register-first pass uses (it runs no
 * program: a spawn costs a few hundred ms on an emulated CPU). No addresses: sysfs has none, and the complete
 * pass that follows runs `ip`. Always resolves.
 */
import path from 'node:path';
import { present, readLink, sysEntries } from './sys-read.ts';

/** linux/if_arp.h ARPHRD_* numbers -> iproute2's link_type names (the ones the inventory tells apart). */
const LINK_TYPES: Record<string, string> = { '1': 'ether', '772': 'loopback', '32': 'infiniband', '65534': 'none' };
/** linux/if.h */
const IFF_UP = 0x1;
const MAX_IFACES = 1024;

/** DEVTYPE= of the interface's uevent (bridge, bond, vlan, wlan, ...), the kind iproute2 reports for most of them. */
function devtype(uevent: string | undefined): string | undefined {
  return /^DEVTYPE=(\S+)$/m.exec(uevent ?? '')?.[1];
}

/** `ip -j addr`-shaped JSON for every interface under `root`/sys/class/net. */
export async function sysfsNetText(root: string): Promise<string> {
  const out: Record<string, unknown>[] = [];
  for (const { name, at, attr: text } of sysEntries(path.join(root, 'sys/class/net'), MAX_IFACES)) {
    const flags = Number.parseInt(text('flags') ?? '0', 16);
    const up = Number.isFinite(flags) && (flags & IFF_UP) !== 0;
    const carrier = up && text('carrier') === '1'; // reading carrier of a down link fails (EINVAL)
    // A NIC on a bus has a `device` link; bridges, bonds, veths and tunnels live under /sys/devices/virtual.
    const onBus = present(at('device'));
    const kind = devtype(text('uevent')) ?? (onBus ? undefined : 'virtual');
    const link = readLink(at('master'));
    const master = link === undefined ? undefined : path.basename(link);
    const mtu = Number(text('mtu') ?? NaN);
    const row: Record<string, unknown> = {
      ifname: name,
      flags: [...(up ? ['UP'] : []), ...(carrier ? ['LOWER_UP'] : [])],
      link_type: LINK_TYPES[text('type') ?? ''] ?? 'other',
      address: text('address'),
      addr_info: [],
    };
    if (Number.isFinite(mtu)) row['mtu'] = mtu;
    if (master) row['master'] = master;
    if (kind) row['linkinfo'] = { info_kind: kind };
    out.push(row);
  }
  return JSON.stringify(out);
}
