import { describe, it, expect } from 'vitest';
import { loadServeConfig, serveHelp } from '../../server/config/load.ts';
import { CcError } from '../../server/errors/cc-error.ts';

const machine = {
  interfaces: () => ({
    eth1: [
      {
        address: '10.9.0.1',
        netmask: '255.255.255.0',
        family: 'IPv4' as const,
        mac: '52:54:00:00:00:01',
        internal: false,
        cidr: '10.9.0.1/24',
      },
    ],
  }),
  ifindex: (n: string) => (n === 'eth1' ? 4 : null),
  env: { HOME: '/home/x' },
};

describe('serve config', () => {
  it('defaults to the simulated rack on loopback with the admin plane on 127.0.0.1:8027', () => {
    const c = loadServeConfig([], machine);
    expect(c).toMatchObject({
      iface: null,
      dhcp: 'off',
      lab: { nodes: 8 },
      http: { host: '127.0.0.1', port: 8026 },
      admin: { host: '127.0.0.1', port: 8027, exposed: false },
      dataDir: '/home/x/.local/share/crashcart',
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
  });
  it('resolves the NIC address and validates the range', () => {
    const c = loadServeConfig(['--iface', 'eth1', '--range', '10.9.0.100-10.9.0.200'], machine);
    expect(c).toMatchObject({
      iface: 'eth1',
      ifindex: 4,
      address: { ip: '10.9.0.1', prefix: 24 },
      dhcp: 'full',
      publicUrl: 'http://10.9.0.1:8026',
      lab: null,
    });
    expect(loadServeConfig(['--iface', 'eth1'], machine).dhcp).toBe('proxy');
  });
  const fails: [string[], string][] = [
    [['--iface', 'wlan9'], 'CC_ERR_IFACE_NOT_FOUND'],
    [['--iface', 'eth1', '--range', '10.9.1.5-10.9.1.9'], 'CC_ERR_RANGE_INVALID'],
    [['--iface', 'eth1', '--range', '10.9.0.9-10.9.0.5'], 'CC_ERR_RANGE_INVALID'],
    [['--dhcp', 'full'], 'CC_ERR_CONFIG_INVALID'],
    [['--admin-listen', '0.0.0.0:8027'], 'CC_ERR_ADMIN_EXPOSED'],
    [['--http-port', 'abc'], 'CC_ERR_CONFIG_INVALID'],
    [['--lab', 'sim:x'], 'CC_ERR_CONFIG_INVALID'],
    [['--bogus'], 'CC_ERR_CONFIG_INVALID'],
    [['--address', '10.0.0.1'], 'CC_ERR_CONFIG_INVALID'],
  ];
  for (const [argv, code] of fails)
    it(`refuses ${argv.join(' ')} with ${code}`, () => {
      try {
        loadServeConfig(argv, machine);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CcError);
        expect((e as CcError).code).toBe(code);
        expect((e as CcError).fix.length).toBeGreaterThan(10);
      }
    });
  it('exposes the admin plane only with the token requirement', () => {
    expect(loadServeConfig(['--admin-listen', '0.0.0.0:9000', '--admin-token-required'], machine).admin).toEqual({
      host: '0.0.0.0',
      port: 9000,
      exposed: true,
      hostnames: [],
      // Beyond loopback the admin plane speaks HTTPS only: a self-signed certificate unless one is given.
      tls: { cert: null, key: null },
      sessionIdleS: 8 * 3600,
      sessionMaxS: 24 * 3600,
    });
  });
  it('documents every flag in --help', () => {
    const h = serveHelp();
    for (const f of ['--iface', '--address', '--dhcp', '--range', '--data-dir', '--http-port', '--admin-listen', '--lab'])
      expect(h).toContain(f);
  });
});
