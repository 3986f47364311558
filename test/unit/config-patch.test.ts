/**
 * One config path (issue 11, first bullet): the Setup screen's apply patches
 * the running config through the same resolver and validation as start-up, so
 * nothing but the network group changes.
 */
import { describe, it, expect } from 'vitest';
import { loadServeConfig } from '../../server/config/load.ts';
import { patchConfig } from '../../server/config/patch.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { Config } from '../../server/config/schema.ts';

const nic = (address: string, cidr: string) => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4' as const,
  mac: '52:54:00:00:00:01',
  internal: false,
  cidr,
});
const machine = {
  interfaces: () => ({ eth1: [nic('10.9.0.1', '10.9.0.1/24')], eth2: [nic('10.7.0.1', '10.7.0.1/24')] }),
  ifindex: (n: string) => ({ eth1: 4, eth2: 5 })[n] ?? null,
  env: { HOME: '/home/x' },
};

/** Every flag set away from its default. */
const START = [
  '--iface', 'eth1', '--range', '10.9.0.100-10.9.0.200', '--data-dir', '/srv/cc', '--http-port', '9026',
  '--admin-listen', '0.0.0.0:9027', '--admin-token-required', '--admin-hostname', 'crashcart.lab',
  '--admin-hostname', 'Cart.Example.', '--admin-cert', '/etc/cc/cert.pem', '--admin-key', '/etc/cc/key.pem',
  '--session-idle', '30m', '--session-lifetime', '2d', '--lab', 'sim:3', '--microkernel', '/srv/mk',
  '--tftp-root', '/srv/tftp', '--efi-loader', 'snponly.efi', '--log-level', 'debug', '--rate-limit', '77',
  '--dhcp-port', '1067', '--tftp-port', '1069', '--proxy-port', '14011',
]; // prettier-ignore

describe('patchConfig (Setup apply)', () => {
  const before = loadServeConfig(START, machine);

  it('parses the admin flags: names lowercased, a given certificate, durations', () => {
    expect(before.admin).toEqual({
      host: '0.0.0.0',
      port: 9027,
      exposed: true,
      hostnames: ['crashcart.lab', 'cart.example'],
      tls: { cert: '/etc/cc/cert.pem', key: '/etc/cc/key.pem' },
      sessionIdleS: 1800,
      sessionMaxS: 2 * 86400,
    });
  });

  it('changes only the network group; every other setting survives', () => {
    const after = patchConfig(before, { network: { iface: 'eth2', dhcp: 'proxy' } }, machine);
    expect(Object.isFrozen(after) && Object.isFrozen(after.admin)).toBe(true);
    expect(after).toMatchObject({
      iface: 'eth2',
      ifindex: 5,
      address: { ip: '10.7.0.1', prefix: 24 },
      dhcp: 'proxy',
      range: null,
      force: false,
      http: { host: '10.7.0.1', port: 9026 },
      publicUrl: 'http://10.7.0.1:9026',
    });
    const network = new Set(['iface', 'ifindex', 'address', 'dhcp', 'range', 'force', 'http', 'publicUrl']);
    const rest = (c: Config) => Object.fromEntries(Object.entries(c).filter(([k]) => !network.has(k)));
    expect(rest(after)).toEqual(rest(before));
    // Spelled out, so a reader sees what used to be lost by the old argv rebuild.
    expect(after).toMatchObject({
      dataDir: '/srv/cc',
      microkernelDir: '/srv/mk',
      tftpRoot: '/srv/tftp',
      efiLoader: 'snponly.efi',
      logLevel: 'debug',
      rateLimitPerMin: 77,
      lab: { nodes: 3 },
      ports: { dhcp: 1067, proxy: 14011, tftp: 1069 },
      admin: before.admin,
    });
  });

  it('validates a patch exactly like start-up and leaves the running config untouched on refusal', () => {
    const bad: [Parameters<typeof patchConfig>[1]['network'], string][] = [
      [{ iface: 'wlan9' }, 'CC_ERR_IFACE_NOT_FOUND'],
      [{ iface: 'eth2', dhcp: 'full' }, 'CC_ERR_CONFIG_INVALID'],
      [{ iface: 'eth2', range: '10.9.0.5-10.9.0.9' }, 'CC_ERR_RANGE_INVALID'],
      [{ iface: 'eth2', address: '10.7.0.1' }, 'CC_ERR_CONFIG_INVALID'],
    ];
    for (const [network, code] of bad) {
      const e = (() => {
        try {
          patchConfig(before, { network }, machine);
        } catch (x) {
          return x;
        }
        return null;
      })();
      expect(e, JSON.stringify(network)).toBeInstanceOf(CcError);
      expect((e as CcError).code).toBe(code);
    }
    expect(before.iface).toBe('eth1');
  });
});

describe('admin flags', () => {
  const fails: [string[], string][] = [
    [['--admin-cert', '/x.pem'], 'a certificate without its key'],
    [['--session-idle', '8 hours'], 'a duration that is not NNs/m/h/d'],
    [['--session-lifetime', '10s'], 'less than a minute'],
    [['--admin-hostname', 'evil/x'], 'a name with a slash'],
  ];
  for (const [argv, why] of fails)
    it(`refuses ${why}`, () => {
      expect(() => loadServeConfig(argv, machine)).toThrow(CcError);
    });
  it('uses plain HTTP on loopback and HTTPS (self-signed) beyond it', () => {
    expect(loadServeConfig([], machine).admin.tls).toBeNull();
    expect(loadServeConfig(['--admin-listen', '10.9.0.1:8027', '--admin-token-required'], machine).admin.tls).toEqual({
      cert: null,
      key: null,
    });
  });
});
