/**
 * Reading a machine's identifiers from its BMC, pure parts: the System GUID as an SMBIOS UUID (decoded, encoded,
 * length, round trip), the FRU serial, a Redfish ComputerSystem and its NICs, and the canonical form (placeholders
 * dropped). Fixtures are real ipmitool output from ipmi_sim (test/fixtures/ipmitool/PROVENANCE.md).
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { GUID_BYTES, parseRawBytes, smbiosBytesFromUuid, uuidFromSmbiosBytes } from '../../server/bmc/ipmi/system-guid.ts';
import { fruSerial } from '../../server/bmc/ipmi/fru-serial.ts';
import { nicMac, nicMembers, systemIds, MAX_SYSTEM_NICS } from '../../server/bmc/redfish/system-identity.ts';
import { canonicalIdentity } from '../../server/bmc/bmc-identity.ts';
import { classifyIpmitoolFailure } from '../../server/bmc/ipmi/classify.ts';
import { fruImage } from './peers/fru-data.ts';

const fx = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'ipmitool', name), 'utf8');
const GUID_HEX = '0badc0de00004000800000000000e101'; // what the fixture's ipmi_sim was configured with

describe('System GUID (IPMI Get System GUID) as the SMBIOS UUID', () => {
  it('decodes the captured answer, re-encodes to the same bytes, has the right length, round-trips', () => {
    const bytes = parseRawBytes(fx('ipmi-sim.raw-get-system-guid.stdout.txt'));
    expect(bytes).toEqual([...Buffer.from(GUID_HEX, 'hex')]);
    expect(bytes).toHaveLength(GUID_BYTES);
    // SMBIOS 7.2.1: the first three fields little-endian.
    const uuid = uuidFromSmbiosBytes(bytes!);
    expect(uuid).toBe('dec0ad0b-0000-0040-8000-00000000e101');
    expect(smbiosBytesFromUuid(uuid)).toEqual(bytes);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(smbiosBytesFromUuid(uuidFromSmbiosBytes([...b]))).toEqual([...b]);
      }),
    );
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        expect(uuidFromSmbiosBytes(smbiosBytesFromUuid(u))).toBe(u);
      }),
    );
  });

  it('anything that is not 16 hex bytes is no GUID, and never throws', () => {
    expect(parseRawBytes('')).toBeNull();
    expect(parseRawBytes(' 0b ad c0')).toBeNull();
    expect(parseRawBytes(`${' 00'.repeat(17)}`)).toBeNull();
    expect(parseRawBytes(`${' zz'.repeat(16)}`)).toBeNull();
    expect(() => uuidFromSmbiosBytes([1, 2, 3])).toThrow(RangeError);
    expect(() => smbiosBytesFromUuid('not-a-uuid')).toThrow(RangeError);
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => void parseRawBytes(s)));
  });
});

describe('FRU serial', () => {
  it('the product serial of the captured `fru print 0`', () => {
    expect(fruSerial(fx('ipmi-sim.fru-print-0.stdout.txt'))).toEqual({ serial: 'CC-E2E-IPMI-01', field: 'Product Serial' });
  });

  it('falls back to the chassis serial, never the board serial; none is null', () => {
    expect(fruSerial(' Board Serial          : MB-1\n Chassis Serial        : CH-9\n')).toEqual({
      serial: 'CH-9',
      field: 'Chassis Serial',
    });
    expect(fruSerial(' Board Serial          : MB-1\n')).toBeNull();
    expect(fruSerial('')).toBeNull();
    // A line far longer than any FRU field is not read (and costs nothing).
    expect(fruSerial(` Product Serial : ${'x'.repeat(5000)}\n`)).toBeNull();
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), (s) => void fruSerial(s)));
  });

  it('a BMC without FRU data fails as a protocol answer (the driver goes on with the GUID alone)', () => {
    expect(classifyIpmitoolFailure(fx('ipmi-sim.fru-print-0-absent.stderr.txt'), 'BMC').code).toBe('CC_ERR_BMC_PROTOCOL');
  });

  it('the FRU image the simulated BMC serves has valid zero-sum checksums (FRU spec 16.2)', () => {
    const img = fruImage({ manufacturer: 'M', name: 'N', serial: 'S-1' });
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0) & 0xff;
    expect(sum(img.slice(0, 8))).toBe(0);
    const len = img[9]! * 8;
    expect(sum(img.slice(8, 8 + len))).toBe(0);
    expect(img.length).toBe(8 + len);
  });
});

describe('Redfish ComputerSystem identity', () => {
  it('reads UUID, SerialNumber and NIC MACs; ignores what is not of the shape', () => {
    expect(systemIds({ UUID: 'ABC', SerialNumber: 'S1' })).toEqual({ uuid: 'ABC', serial: 'S1' });
    expect(systemIds({ UUID: 7, SerialNumber: null })).toEqual({ uuid: null, serial: null });
    expect(systemIds('junk')).toEqual({ uuid: null, serial: null });
    expect(nicMac({ MACAddress: '52:54:00:00:00:01', PermanentMACAddress: '52:54:00:00:00:02' })).toBe('52:54:00:00:00:01');
    expect(nicMac({ PermanentMACAddress: '52:54:00:00:00:02' })).toBe('52:54:00:00:00:02');
    expect(nicMac([])).toBeNull();
  });

  it('follows only NIC links on the BMC itself, and at most MAX_SYSTEM_NICS of them', () => {
    const members = [
      { '@odata.id': '/redfish/v1/Systems/1/EthernetInterfaces/1' },
      { '@odata.id': 'https://elsewhere.example/redfish/v1/x' },
      { '@odata.id': '/etc/passwd' },
      ...Array.from({ length: 100 }, (_, i) => ({ '@odata.id': `/redfish/v1/Systems/1/EthernetInterfaces/n${i}` })),
    ];
    const got = nicMembers({ Members: members });
    expect(got[0]).toBe('/redfish/v1/Systems/1/EthernetInterfaces/1');
    expect(got.every((m) => m.startsWith('/redfish/'))).toBe(true);
    expect(got).toHaveLength(MAX_SYSTEM_NICS);
  });
});

describe('canonical identity', () => {
  it('canonical forms; placeholders dropped with a warning', () => {
    const r = canonicalIdentity(
      {
        uuid: '03000200-0400-0500-0006-000700080009',
        serial: 'To be filled by O.E.M.',
        macs: ['52-54-00-AA-BB-CC', '52:54:00:aa:bb:cc', 'nonsense'],
        sources: ['uuid: x', 'serial: y', 'macs: z'],
      },
      [],
    );
    expect(r.identity).toEqual({ uuid: null, serial: null, macs: ['52:54:00:aa:bb:cc'], sources: ['macs: z'] });
    expect(r.warnings.join(' ')).toMatch(/UUID .* placeholder/);
    expect(r.warnings.join(' ')).toMatch(/serial .* placeholder/);
    expect(
      canonicalIdentity({ uuid: '0BADC0DE-0000-4000-8000-0000000000A1', serial: ' S-1 ', macs: [], sources: [] }, []).identity,
    ).toMatchObject({
      uuid: '0badc0de-0000-4000-8000-0000000000a1',
      serial: 'S-1',
    });
  });
});
