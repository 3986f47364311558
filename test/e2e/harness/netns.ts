/**
 * A private network for the e2e boot test: one namespace holding a bridge (the appliance's NIC, with its
 * address) and one tap device per QEMU NIC. Everything lives inside the namespace, so deleting it removes
 * the bridge and the taps too; nothing is created in the host's own namespace.
 */
import { execFileSync } from 'node:child_process';

/** Run `ip` and throw with its stderr (and the fix) on failure. */
function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `ip ${args.join(' ')} failed: ${err.stderr ?? err.message}\n  fix: run the e2e as root on Linux with iproute2 installed (apt-get install iproute2)`,
    );
  }
}

/** The namespace, its bridge and the taps made so far. */
export interface TestNet {
  ns: string;
  bridge: string;
  /** Appliance address on the bridge. */
  address: string;
  prefix: number;
  taps: string[];
}

/** Create namespace `ns` with bridge `br0` carrying `address/prefix`. */
export function createNet(ns: string, address: string, prefix: number): TestNet {
  ip(['netns', 'add', ns]);
  const net: TestNet = { ns, bridge: 'br0', address, prefix, taps: [] };
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  // forward_delay 0: the guests' first DHCP packets must not fall into the STP listening window.
  ip(['-n', ns, 'link', 'add', net.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
  ip(['-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', net.bridge]);
  ip(['-n', ns, 'link', 'set', net.bridge, 'up']);
  // A bridge whose only ports are taps nobody has opened yet has no carrier, and a NIC without carrier is
  // invisible to os.networkInterfaces() (libuv lists only UP+RUNNING ones), so `crashcart serve --iface br0`
  // would not find it. A veth pair with one end on the bridge is the cable that is already plugged in.
  ip(['-n', ns, 'link', 'add', 'cable0', 'type', 'veth', 'peer', 'name', 'cable1']);
  ip(['-n', ns, 'link', 'set', 'cable0', 'master', net.bridge, 'up']);
  // The free end must not answer ARP for the appliance's address (Linux answers on any interface by
  // default): UEFI firmware that learns cable1's MAC sends its TFTP ACKs there, where the NIC-pinned
  // sockets rightly never see them.
  ip(['-n', ns, 'link', 'set', 'cable1', 'arp', 'off', 'up']);
  return net;
}

/** Add a tap device enslaved to the bridge; QEMU opens it by name inside the namespace. */
export function addTap(net: TestNet): string {
  const name = `tap${net.taps.length}`;
  ip(['-n', net.ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
  ip(['-n', net.ns, 'link', 'set', name, 'master', net.bridge, 'up']);
  net.taps.push(name);
  return name;
}

/** Delete the namespace (and with it the bridge and taps); tolerant of a half-built net. */
export function destroyNet(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/** Is the namespace still there? (afterAll checks its own cleanup.) */
export function netExists(ns: string): boolean {
  return ip(['netns', 'list'])
    .split('\n')
    .some((l) => l.split(' ')[0] === ns);
}
