/**
 * The cloud-init NoCloud seed of a deployed node (meta-data, user-data, network-config). Rendered from
 * operator data (the policy's SSH keys and root password hash) and whitelisted node data (the id, the
 * hostname the policy template produced, checked against RFC 1123, the boot MAC in canonical form) only:
 * node text never becomes boot text (docs/security.md). Every file is JSON, which YAML 1.1 parsers read
 * as flow style, so no value can break out of its quoting. Pure.
 */
import type { Seed } from '../../contract/agent-tasks.ts';

/** What goes into a seed. */
export interface SeedInput {
  nodeId: number;
  jobId: string;
  hostname: string | null;
  bootMac: string | null;
  sshKeys: readonly string[];
  rootPasswordHash: string | null;
  /** The install token's stage URL, without `name=` (the installed OS reports `installed` with it). */
  stageUrl: string;
  /** The node's static address (its DHCP reservation or `ip_reserved`) and its subnet; absent or null: DHCP. */
  network?: SeedNetwork | null;
}

/** A static address for the boot NIC: the server's own data (server/nodes/os-network.ts), checked again here. */
export interface SeedNetwork {
  ip: string;
  prefix: number;
  gateway: string | null;
  dns: readonly string[];
}

/** RFC 1123 host name (labels of letters, digits and hyphens, at most 253 characters). */
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** An OpenSSH public key line: type, base64 blob, optional comment, one line. */
const SSH_KEY =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\r\n]*)?$/;

/**
 * The callback the installed OS runs at the end of its first boot (cloud-init runcmd, in the final stage,
 * once the network is up): python3 is there wherever cloud-init is. Retries for ten minutes, so a
 * DHCP server still coming up does not lose the callback.
 */
export const CALLBACK_PY = [
  'import sys, time, urllib.request',
  'for i in range(60):',
  '    try:',
  '        urllib.request.urlopen(sys.argv[1], timeout=20).read()',
  '        break',
  '    except Exception as e:',
  '        print("crashcart callback failed, retrying:", e, flush=True)',
  '        time.sleep(10)',
].join('\n');

/** The host name to seed: the node's, when it is a valid one, else `node<ID>`. */
export function seedHostname(i: Pick<SeedInput, 'nodeId' | 'hostname'>): string {
  return i.hostname && HOSTNAME.test(i.hostname) ? i.hostname : `node${i.nodeId}`;
}

/**
 * The boot NIC's addressing in network-config v2 (cloud-init's netplan subset): the static address with its
 * prefix, a default route (`to: 0.0.0.0/0`, which every cloud-init renderer reads, where `to: default` needs a
 * newer one) and the name servers; DHCP when there is none or it is not a valid address.
 */
export function bootNicAddress(n: SeedNetwork | null | undefined): Record<string, unknown> {
  if (!n || !IPV4.test(n.ip) || !Number.isInteger(n.prefix) || n.prefix < 1 || n.prefix > 32) return { dhcp4: true };
  const dns = n.dns.filter((d) => IPV4.test(d));
  return {
    dhcp4: false,
    addresses: [`${n.ip}/${n.prefix}`],
    ...(n.gateway && IPV4.test(n.gateway) ? { routes: [{ to: '0.0.0.0/0', via: n.gateway }] } : {}),
    ...(dns.length ? { nameservers: { addresses: dns } } : {}),
  };
}

/** Render the three seed files. */
export function renderSeed(i: SeedInput): Seed {
  const hostname = seedHostname(i);
  const short = hostname.split('.')[0]!;
  const meta = { 'instance-id': `crashcart-${i.nodeId}-${i.jobId}`, 'local-hostname': short };
  const keys = i.sshKeys.map((k) => k.trim()).filter((k) => SSH_KEY.test(k));
  const user: Record<string, unknown> = {
    preserve_hostname: false,
    hostname: short,
    ...(hostname !== short ? { fqdn: hostname } : {}),
    ...(keys.length ? { ssh_authorized_keys: keys } : {}),
    ...(i.rootPasswordHash && /^\$[0-9a-z]+\$[^\s:]+$/.test(i.rootPasswordHash)
      ? { chpasswd: { expire: false, users: [{ name: 'root', password: i.rootPasswordHash, type: 'hash' }] } }
      : {}),
    runcmd: [['python3', '-c', CALLBACK_PY, `${i.stageUrl}&name=installed`]],
  };
  // Configure the NIC the machine booted from (matched by MAC, so its name does not matter); without a
  // known MAC cloud-init's fallback (DHCP on the first NIC with a link) applies.
  const net =
    i.bootMac && MAC.test(i.bootMac)
      ? { version: 2, ethernets: { boot0: { match: { macaddress: i.bootMac }, 'set-name': 'boot0', ...bootNicAddress(i.network) } } }
      : { version: 2, ethernets: {} };
  return {
    meta_data: JSON.stringify(meta, null, 2) + '\n',
    user_data: '#cloud-config\n' + JSON.stringify(user, null, 2) + '\n',
    network_config: JSON.stringify(net, null, 2) + '\n',
  };
}
