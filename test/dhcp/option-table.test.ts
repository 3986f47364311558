/** The one option table, its value codecs, operator options (--dhcp-option) and extra pools (--pool) at config load. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OPTIONS, OPTION_BY_CODE, OPTION_BY_NAME, VALUE_TYPES } from '../../server/dhcp/option-table.ts';
import { collectOptions, decodeWith, readOption } from '../../server/dhcp/options.ts';
import { decode } from '../../server/dhcp/codec.ts';
import { encodeExtraOptions, parseDhcpOptionFlag, RESERVED_OPTIONS } from '../../server/dhcp/extra-options.ts';
import { parsePoolFlag, poolsFor } from '../../server/dhcp/pools.ts';
import { loadServeConfig, serveHelp } from '../../server/config/load.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { dhcpFromHex, dhcpFromPcap, fixtureFiles } from './fixture-packets.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** Option data and the value it means, per codec (wire samples written from the RFCs' layouts). */
const samples: [keyof typeof OPTIONS, string, unknown][] = [
  ['SUBNET_MASK', 'ffffff00', '255.255.255.0'],
  ['ROUTER', '0a090001 0a0900fe', ['10.9.0.1', '10.9.0.254']],
  ['MTU', '05dc', 1500],
  ['LEASE_TIME', '00000e10', 3600],
  ['MESSAGE_TYPE', '05', 5],
  ['PARAM_LIST', '0103063c', [1, 3, 6, 60]],
  ['VENDOR_CLASS', Buffer.from('PXEClient').toString('hex'), 'PXEClient'],
  ['CLIENT_ID', '01525400000001', hex('01525400000001')],
  ['USER_CLASS', '0469505845', ['iPXE']],
  ['CLIENT_ARCH', '00070010', [7, 16]],
  ['CLIENT_NDI', '010201', { type: 1, major: 2, minor: 1 }],
  ['CLIENT_GUID', '00 d4659bbd 65d4 9bbd d465 9bbdd4659bbd', 'bd9b65d4-d465-bd9b-d465-9bbdd4659bbd'],
  ['VENDOR_SPECIFIC', '060108 4704 80000000', hex('060108 4704 80000000')],
  [
    'RELAY_AGENT',
    '0104 65746831 0203 616263',
    [
      [1, hex('65746831')],
      [2, hex('616263')],
    ],
  ],
  [
    'CLASSLESS_ROUTES',
    '080a 0a0900fe 00 0a090001',
    [
      { dest: '10.0.0.0', prefix: 8, router: '10.9.0.254' },
      { dest: '0.0.0.0', prefix: 0, router: '10.9.0.1' },
    ],
  ],
  ['DOMAIN_SEARCH', '036c6162076578616d706c6500 0472616b3103636f6d00', ['lab.example', 'rak1.com']],
];

describe('option table', () => {
  it('codes and names are unique, and every row has a codec', () => {
    const rows = Object.values(OPTIONS);
    expect(new Set(rows.map((r) => r.code)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    expect(OPTION_BY_CODE.size).toBe(rows.length);
    expect(OPTION_BY_NAME.get('ntp-servers')?.code).toBe(42);
  });
  it.each(samples)('%s decodes, re-encodes to the same bytes, and round-trips', (name, data, value) => {
    const row = OPTIONS[name] as { codec: { decode(d: Uint8Array): unknown; encode(v: unknown): Uint8Array; format(v: unknown): string } };
    const bytes = hex(data);
    const v = row.codec.decode(bytes);
    expect(v).toEqual(value);
    expect(Buffer.from(row.codec.encode(v)).equals(Buffer.from(bytes))).toBe(true);
    expect(row.codec.encode(v).length).toBe(bytes.length);
    expect(row.codec.decode(row.codec.encode(v))).toEqual(v);
    expect(row.codec.format(v).length).toBeGreaterThan(0);
  });
  it('address encoding refuses what is not a dotted quad', () => {
    expect(OPTIONS.SERVER_ID.codec.encode('255.0.10.1')).toEqual(Uint8Array.of(255, 0, 10, 1));
    for (const bad of ['10.0.0.256', '10.0.0', '10.0.0.1.2', '10..0.1', '1000.0.0.1', 'a.b.c.d', '', '10.0.0.1 '])
      expect(() => OPTIONS.SERVER_ID.codec.encode(bad), bad).toThrow(RangeError);
  });
  it('lenient where firmware is sloppy: a bare user class, a garbage GUID', () => {
    expect(OPTIONS.USER_CLASS.codec.decode(Buffer.from('iPXE'))).toEqual(['iPXE']);
    expect(OPTIONS.CLIENT_GUID.codec.decode(hex('01 00'))).toBeNull();
  });
  it('names the option when its value is malformed', () => {
    const opts = new Map([[93, hex('000')]].map(([c, d]) => [c as number, d as Uint8Array]));
    opts.set(93, hex('00'));
    expect(() => readOption(opts, OPTIONS.CLIENT_ARCH)).toThrow(/option 93 \(client-system-architecture\) must be a non-empty even length/);
    const e = (() => {
      try {
        decodeWith(OPTIONS.CLASSLESS_ROUTES, hex('21 0a'));
      } catch (x) {
        return x as MalformedPacket;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(MalformedPacket);
    expect(e!.reason).toMatch(/option 121 .*prefix 33 > 32/);
  });
  it('a domain search list with compression pointers decodes; a pointer loop is refused', () => {
    // "lab.example" then "rack1" + pointer to "lab.example" (RFC 1035 4.1.4).
    const d = hex('036c6162076578616d706c6500 057261636b31 c000');
    expect(OPTIONS.DOMAIN_SEARCH.codec.decode(d)).toEqual(['lab.example', 'rack1.lab.example']);
    expect(() => decodeWith(OPTIONS.DOMAIN_SEARCH, hex('03616263 c000'))).toThrow(MalformedPacket);
    expect(() => decodeWith(OPTIONS.DOMAIN_SEARCH, hex('c001'))).toThrow(MalformedPacket);
  });
  it('every table codec on random bytes: a value or a MalformedPacket, nothing else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPTION_BY_CODE.values()), fc.uint8Array({ maxLength: 300 }), (row, data) => {
        try {
          decodeWith(row, data);
        } catch (e) {
          if (!(e instanceof MalformedPacket)) throw e;
        }
      }),
      { numRuns: 20000, seed: 11 },
    );
  });
  it('every option of every captured packet that the table knows decodes and re-encodes byte-exactly (lenient codecs aside)', () => {
    const { pcaps, hexes } = fixtureFiles();
    const packets = [...pcaps.flatMap((f) => dhcpFromPcap(f).map((d) => d.payload)), ...hexes.map((f) => dhcpFromHex(f))];
    let checked = 0;
    for (const b of packets) {
      for (const [code, data] of collectOptions(decode(b))) {
        const row = OPTION_BY_CODE.get(code);
        if (!row || code === 77 || code === 97 || code === 12 || code === 15 || code === 60 || code === 56) continue; // text drops trailing NULs; 77/97 lenient
        const v = decodeWith(row, data);
        expect(Buffer.from(row.codec.encode(v)).equals(Buffer.from(data))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe('--dhcp-option', () => {
  it('parses by code or name, through the table type, and encodes', () => {
    expect(parseDhcpOptionFlag('42=ips:10.0.0.1,10.0.0.2')).toEqual({ code: 42, type: 'ips', value: '10.0.0.1,10.0.0.2' });
    expect(parseDhcpOptionFlag('domain-search=domains:lab.example,rack.lab.example').code).toBe(119);
    expect(parseDhcpOptionFlag('224=hex:01:ff').code).toBe(224);
    expect(parseDhcpOptionFlag('routers=hex:0a0900fe').type).toBe('hex'); // the raw escape hatch
    const enc = encodeExtraOptions([
      { code: 3, type: 'ips', value: '10.9.0.254' },
      { code: 26, type: 'u16', value: '1500' },
      { code: 121, type: 'routes', value: '10.0.0.0/8@10.9.0.254' },
    ]);
    expect(enc).toEqual([
      [3, hex('0a0900fe')],
      [26, hex('05dc')],
      [121, hex('080a0a0900fe')],
    ]);
  });
  const bad: [string, RegExp][] = [
    ['42', /CODE=TYPE:VALUE/],
    ['42=ip:10.0.0.1', /ntp-servers\) is ips, not ip/],
    ['3=text:gateway', /is ips, not text/],
    ['53=u8:1', /cannot be set: it is part of the DHCP exchange/],
    ['67=text:evil.efi', /the boot file is decided per client/],
    ['82=hex:0102', /relay agent information/],
    ['0=hex:00', /pad is framing/],
    ['300=u8:1', /not 1\.\.254/],
    ['no-such-option=u8:1', /no option is named "no-such-option"/],
    ['224=float:1.5', /type "float" is not one of/],
    ['26=u16:70000', /not a whole number from 0 to 65535/],
    ['6=ips:10.0.0.300', /not an IPv4 address/],
    ['15=text:a\u0000b', /printable ASCII/],
    [`224=hex:${'00'.repeat(256)}`, /at most 255/],
  ];
  it.each(bad)('refuses %s with a clear message', (spec, msg) => {
    let err: unknown = null;
    try {
      parseDhcpOptionFlag(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CcError);
    expect((err as CcError).code).toBe('CC_ERR_DHCP_OPTION_INVALID');
    expect((err as CcError).message).toMatch(msg);
  });
  it('refuses a code given twice and a total that would not fit a reply', () => {
    expect(() =>
      encodeExtraOptions([
        { code: 42, type: 'ips', value: '10.0.0.1' },
        { code: 42, type: 'ips', value: '10.0.0.2' },
      ]),
    ).toThrow(/given twice/);
    const big = [224, 225].map((code) => ({ code, type: 'hex', value: '00'.repeat(200) }));
    expect(() => encodeExtraOptions(big)).toThrow(/at most 255/);
    expect(RESERVED_OPTIONS.has(54)).toBe(true);
    expect(VALUE_TYPES.has('ips')).toBe(true);
  });
});

describe('--pool', () => {
  it('parses SUBNET/PREFIX:START-END', () => {
    expect(parsePoolFlag('10.20.0.0/24:10.20.0.10-10.20.0.200')).toEqual({
      subnet: '10.20.0.0',
      prefix: 24,
      start: '10.20.0.10',
      end: '10.20.0.200',
    });
  });
  const bad: [string, RegExp][] = [
    ['10.20.0.0:10.20.0.10-10.20.0.20', /SUBNET\/PREFIX:START-END/],
    ['10.20.0.5/24:10.20.0.10-10.20.0.20', /not a network address .*did you mean 10\.20\.0\.0/],
    ['10.20.0.0/24:10.20.1.10-10.20.1.20', /outside 10\.20\.0\.0\/24/],
    ['10.20.0.0/24:10.20.0.0-10.20.0.20', /network or broadcast/],
    ['10.20.0.0/24:10.20.0.10-10.20.0.255', /network or broadcast/],
    ['10.20.0.0/24:10.20.0.30-10.20.0.20', /START is after END/],
    ['10.0.0.0/8:10.0.0.10-10.0.0.20', /\/16 to \/30/],
    ['10.20.0.0/31:10.20.0.0-10.20.0.1', /\/16 to \/30/],
    ['10.20.0.0/24:10.20.0.10-10.20.0.999', /SUBNET\/PREFIX:START-END|not a valid IPv4/],
  ];
  it.each(bad)('refuses %s', (spec, msg) => {
    let err: unknown = null;
    try {
      parsePoolFlag(spec);
    } catch (e) {
      err = e;
    }
    expect((err as CcError).code).toBe('CC_ERR_POOL_INVALID');
    expect((err as CcError).message).toMatch(msg);
  });
});

describe('serve config with DHCP extras', () => {
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
  const base = ['--iface', 'eth1', '--range', '10.9.0.100-10.9.0.200'];
  it('repeatable --pool and --dhcp-option land frozen in the config; the conflict check is off unless asked', () => {
    const c = loadServeConfig(
      [
        ...base,
        '--pool',
        '10.20.0.0/24:10.20.0.10-10.20.0.200',
        '--pool',
        '10.21.0.0/16:10.21.1.1-10.21.9.254',
        '--dhcp-option',
        '42=ips:10.9.0.1',
        '--dhcp-option',
        'domain-name=text:lab.example',
      ],
      machine,
    );
    expect(c.pools.map((p) => p.subnet)).toEqual(['10.20.0.0', '10.21.0.0']);
    expect(c.dhcpOptions).toEqual([
      { code: 42, type: 'ips', value: '10.9.0.1' },
      { code: 15, type: 'text', value: 'lab.example' },
    ]);
    expect(c.conflictCheck).toBe(false);
    expect(Object.isFrozen(c.pools[0])).toBe(true);
    expect(poolsFor(c).map((p) => p.name)).toEqual(['main', '10.20.0.0/24', '10.21.0.0/16']);
    expect(loadServeConfig([...base, '--dhcp-conflict-check'], machine).conflictCheck).toBe(true);
  });
  const refused: [string[], string, RegExp][] = [
    [['--iface', 'eth1', '--pool', '10.20.0.0/24:10.20.0.10-10.20.0.20'], 'CC_ERR_POOL_INVALID', /need --dhcp full/],
    [[...base, '--pool', '10.9.0.0/24:10.9.0.10-10.9.0.20'], 'CC_ERR_POOL_INVALID', /overlaps the provisioning subnet/],
    [
      [...base, '--pool', '10.20.0.0/24:10.20.0.10-10.20.0.20', '--pool', '10.20.0.0/23:10.20.1.10-10.20.1.20'],
      'CC_ERR_POOL_INVALID',
      /overlaps the pool/,
    ],
    [[...base, '--dhcp-option', '54=ip:10.9.0.9'], 'CC_ERR_DHCP_OPTION_INVALID', /cannot be set/],
    [[...base, '--dhcp-option', '42=ips:1.1.1.1', '--dhcp-option', 'ntp-servers=ips:2.2.2.2'], 'CC_ERR_DHCP_OPTION_INVALID', /given twice/],
  ];
  it.each(refused)('refuses %j with %s', (argv, code, msg) => {
    let err: unknown = null;
    try {
      loadServeConfig(argv, machine);
    } catch (e) {
      err = e;
    }
    expect((err as CcError).code).toBe(code);
    expect((err as CcError).message).toMatch(msg);
  });
  it('serve --help shows the new flags', () => {
    const h = serveHelp();
    expect(h).toMatch(/--pool VALUE \.\.\. +SUBNET\/PREFIX:START-END/);
    expect(h).toMatch(/--dhcp-option VALUE \.\.\. +CODE\|NAME=TYPE:VALUE/);
    expect(h).toContain('--dhcp-conflict-check');
  });
});
