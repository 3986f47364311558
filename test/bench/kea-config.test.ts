/**
 * bench/dhcp/kea-config.ts: the Kea the DHCP bench compares with answers with the options Crashcart's own replies
 * carry, with their values (checked against a real OFFER of Crashcart's full server on the bench's subnet), and
 * kea-dhcp4 itself accepts both configurations (`kea-dhcp4 -t`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keaConfig, subnetOf } from '../../bench/dhcp/kea-config.ts';
import { NET } from '../../bench/dhcp/servers.ts';
import { makePool } from '../../server/dhcp/lease-table.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions, OPTIONS, readOption } from '../../server/dhcp/options.ts';
import { DEFAULT_LEASE_S } from '../../server/dhcp/defaults.ts';
import { clientPacket, tempStore, testHandler } from '../dhcp/helpers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-kea-config-'));
/** kea-dhcp4 -t opens the configured interface: a namespace of this test's own with a veth `s0` on the bench's address. */
const ns = `cc-kea-config-${process.pid}`;
afterAll(() => {
  if (fs.existsSync(`/run/netns/${ns}`)) execFileSync('ip', ['netns', 'del', ns]);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface OptionData {
  name: string;
  data: string;
  'always-send': boolean;
}
interface Dhcp4 {
  'valid-lifetime': number;
  'renew-timer'?: number;
  'rebind-timer'?: number;
  'option-data'?: OptionData[];
  subnet4: { subnet: string }[];
}
const dhcp4 = (replies: 'same' | 'minimal') => (keaConfig(NET, dir, replies) as { Dhcp4: Dhcp4 }).Dhcp4;

/** Kea's option names as codes (RFC 2132). */
const CODE_OF: Record<string, number> = { routers: 3, 'domain-name-servers': 6, 'broadcast-address': 28 };

/** Crashcart's OFFER to a relayed perfdhcp-like DISCOVER (client identifier = 01 + MAC) on the bench's subnet. */
async function crashcartOffer(): Promise<Map<number, Uint8Array>> {
  const ts = await tempStore();
  try {
    const h = testHandler({
      serverIp: NET.server,
      pools: [makePool('bench', NET.start, NET.end, NET.prefix)],
      publicUrl: `http://${NET.server}:8026`,
      leaseS: DEFAULT_LEASE_S,
      events: ts.events,
      now: () => 1_700_000_000_000,
    });
    const mac = '00:0c:01:02:06:a3';
    const pkt = clientPacket({
      mac,
      giaddr: NET.relay,
      options: [
        [53, [1]],
        [61, [1, ...mac.split(':').map((x) => parseInt(x, 16))]],
      ],
    });
    const [out] = await h.handle(pkt, { address: NET.relay, port: 67 }, false);
    return collectOptions(decode(out!.buf));
  } finally {
    await ts.cleanup();
  }
}

describe('the Kea of bench/dhcp', () => {
  it('subnetOf gives the network and broadcast of an address and prefix', () => {
    expect(subnetOf('10.9.0.1', 16)).toEqual({ network: '10.9.0.0', broadcast: '10.9.255.255' });
    expect(subnetOf('192.168.7.130', 25)).toEqual({ network: '192.168.7.128', broadcast: '192.168.7.255' });
    expect(subnetOf('10.1.2.3', 32)).toEqual({ network: '10.1.2.3', broadcast: '10.1.2.3' });
    expect(() => subnetOf('10.1.2', 24)).toThrow(/not an IPv4 address/);
  });

  it("'same' sends every option of Crashcart's OFFER with the same value; 'minimal' only Kea's own", async () => {
    const ours = await crashcartOffer();
    const k = dhcp4('same');
    // What Kea always puts in an OFFER: 53, 54, 51, 1, and 61 echoed (RFC 6842).
    const keaCodes = new Set([53, 54, 51, 1, 61]);
    for (const o of k['option-data'] ?? []) {
      expect(o['always-send']).toBe(true); // Crashcart sends them whatever the request list says
      keaCodes.add(CODE_OF[o.name]!);
    }
    if (k['renew-timer'] !== undefined) keaCodes.add(58);
    if (k['rebind-timer'] !== undefined) keaCodes.add(59);
    expect([...keaCodes].sort((a, b) => a - b)).toEqual([...ours.keys()].sort((a, b) => a - b));
    const data = (name: string) => k['option-data']!.find((o) => o.name === name)!.data;
    expect([data('routers')]).toEqual(readOption(ours, OPTIONS.ROUTER));
    expect([data('domain-name-servers')]).toEqual(readOption(ours, OPTIONS.DNS));
    expect(data('broadcast-address')).toBe(readOption(ours, OPTIONS.BROADCAST));
    expect(k['valid-lifetime']).toBe(readOption(ours, OPTIONS.LEASE_TIME));
    expect(k['renew-timer']).toBe(readOption(ours, OPTIONS.RENEWAL_T1));
    expect(k['rebind-timer']).toBe(readOption(ours, OPTIONS.REBINDING_T2));
    expect(k.subnet4[0]!.subnet).toBe(`10.9.0.0/${NET.prefix}`);
    const m = dhcp4('minimal');
    expect(m['option-data']).toBeUndefined();
    expect(m['renew-timer']).toBeUndefined();
    expect(m['rebind-timer']).toBeUndefined();
  });

  it('kea-dhcp4 -t accepts both configurations and refuses a broken one', () => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 's0-peer']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${NET.server}/${NET.prefix}`, 'dev', 's0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 's0', 'up']);
    const check = (name: string, doc: unknown) => {
      const f = path.join(dir, `${name}.json`);
      fs.writeFileSync(f, JSON.stringify(doc));
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'kea-dhcp4', '-t', f], {
          env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
          stdio: 'pipe',
        });
        return 'ok';
      } catch (e) {
        const x = e as { stdout?: Buffer; stderr?: Buffer };
        return `${String(x.stdout ?? '')}${String(x.stderr ?? '')}` || String(e);
      }
    };
    expect(check('same', keaConfig(NET, dir, 'same'))).toBe('ok');
    expect(check('minimal', keaConfig(NET, dir, 'minimal'))).toBe('ok');
    const broken = keaConfig(NET, dir, 'same') as { Dhcp4: Record<string, unknown> };
    broken.Dhcp4['renew-timer'] = 'half';
    expect(check('broken', broken)).toMatch(/renew-timer|syntax error/);
  });
});
