import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { parseMcInfo, parsePowerStatus } from '../../server/bmc/ipmi/parse.ts';
import { parseKeyValues, parseLanPrint } from '../../agent/parse/ipmitool-kv.ts';
import { bootParameterRefusal, classifyIpmitoolFailure, stderrSummary } from '../../server/bmc/ipmi/classify.ts';
import { ipmitoolArgs } from '../../server/bmc/ipmi/ipmitool.ts';
import { CcError } from '../../server/errors/cc-error.ts';

const fx = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'ipmitool', name), 'utf8');

describe('ipmitool output parsers (real captured output)', () => {
  it('power status', () => {
    expect(parsePowerStatus(fx('ipmi-sim.power-status-on.stdout.txt'))).toBe('on');
    expect(parsePowerStatus(fx('ipmi-sim.power-status-off.stdout.txt'))).toBe('off');
    expect(() => parsePowerStatus(fx('ipmi-sim.power-on.stdout.txt'))).toThrow(/CC_ERR_BMC_PROTOCOL|unexpected|printed/);
    expect(() => parsePowerStatus('')).toThrow(CcError);
  });

  it('mc info of ipmi_sim and of an Intel BMC', () => {
    expect(parseMcInfo(fx('ipmi-sim.mc-info.stdout.txt'))).toEqual({
      firmware: '9.08',
      ipmi_version: '2.0',
      manufacturer_id: '4753',
      manufacturer: 'MontaVista Software, Inc.',
      product_id: '3842',
    });
    expect(parseMcInfo(fx('intel-bmc.ipmitool-mc-info.txt'))).toEqual({
      firmware: '1.17',
      ipmi_version: '2.0',
      manufacturer_id: '343',
      manufacturer: 'Intel Corporation',
      product_id: '73',
    });
    const kv = parseKeyValues(fx('intel-bmc.ipmitool-mc-info.txt'));
    expect(kv['Additional Device Support']).toContain('Chassis Device');
    expect(kv['Aux Firmware Rev Info']).toEqual(['0x01', '0x17', '0x37', '0x10']);
  });

  it('lan print of a Supermicro BMC with no address yet', () => {
    expect(parseLanPrint(fx('supermicro-bmc.ipmitool-lan-print.txt'))).toEqual({
      ip_source: 'DHCP Address',
      ip: null,
      netmask: null,
      gateway: null,
      mac: '00:25:90:83:d4:4c',
      vlan: null,
    });
    const kv = parseKeyValues(fx('supermicro-bmc.ipmitool-lan-print.txt'));
    expect(kv['Auth Type Enable']).toEqual([
      'Callback : MD2 MD5 PASSWORD',
      'User     : MD2 MD5 PASSWORD',
      'Operator : MD2 MD5 PASSWORD',
      'Admin    : MD2 MD5 PASSWORD',
      'OEM      : MD2 MD5 PASSWORD',
    ]);
    const set = fx('supermicro-bmc.ipmitool-lan-print.txt')
      .replace('IP Address              : 0.0.0.0', 'IP Address              : 10.20.0.31')
      .replace('802.1q VLAN ID          : Disabled', '802.1q VLAN ID          : 42');
    expect(parseLanPrint(set)).toMatchObject({ ip: '10.20.0.31', vlan: 42 });
    expect(parseLanPrint('IP Address : 999.1.1.1\nMAC Address : zz')).toMatchObject({ ip: null, mac: null });
  });

  it('classifies failures by what ipmitool printed', () => {
    const c = (f: string) => classifyIpmitoolFailure(fx(f), 'IPMI BMC 127.0.0.1:623');
    expect(c('ipmi-sim.wrong-password.stderr.txt').code).toBe('CC_ERR_BMC_AUTH');
    expect(c('ipmi-sim.wrong-user.stderr.txt').code).toBe('CC_ERR_BMC_AUTH');
    expect(c('ipmi-sim.user-privilege.stderr.txt').code).toBe('CC_ERR_BMC_AUTH');
    expect(c('no-bmc.unreachable.stderr.txt').code).toBe('CC_ERR_BMC_UNREACHABLE');
    const cipher = c('ipmi-sim.cipher-17.stderr.txt');
    expect(cipher.code).toBe('CC_ERR_BMC_REFUSED');
    expect(cipher.message).toContain('ipmi_cipher_suite');
    expect(classifyIpmitoolFailure('Set Chassis Power Control to Cycle failed: Command not supported in present state', 'x').code).toBe(
      'CC_ERR_BMC_REFUSED',
    );
    expect(classifyIpmitoolFailure('', 'x').code).toBe('CC_ERR_BMC_PROTOCOL');
    // The quoted part drops -v chatter.
    expect(stderrSummary(fx('ipmi-sim.user-privilege.stderr.txt'))).toBe(
      'Set Chassis Power Control to Up/On failed: Insufficient privilege level',
    );
  });

  it('finds the refusal that `chassis bootdev` hides behind exit status 0', () => {
    expect(bootParameterRefusal(fx('ipmi-sim.bootdev-refused.stderr.txt'))).toBe(
      'Set Chassis Boot Parameter 4 failed: Invalid data field in request',
    );
    expect(bootParameterRefusal(fx('ipmi-sim.mc-info.stdout.txt'))).toBeNull();
  });

  it('hostile output never throws anything but a CcError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => {
        parseKeyValues(s);
        parseLanPrint(s);
        classifyIpmitoolFailure(s, 'x');
        bootParameterRefusal(s);
        for (const f of [parsePowerStatus, parseMcInfo])
          try {
            f(s);
          } catch (e) {
            expect(e).toBeInstanceOf(CcError);
          }
      }),
      { numRuns: 500 },
    );
  });

  it('the command line never carries the password', () => {
    const args = ipmitoolArgs(
      {
        driver: 'ipmi',
        address: '10.0.0.5',
        port: 623,
        username: 'admin',
        password: 'Sup3r-S3cret',
        system_path: null,
        tls: 'pin',
        tls_fingerprint: null,
        ipmi_cipher_suite: null,
      },
      ['chassis', 'power', 'status'],
    );
    expect(args.join(' ')).not.toContain('Sup3r-S3cret');
    expect(args).toContain('-E');
    expect(args).not.toContain('-P');
    expect(args.slice(args.indexOf('-C'), args.indexOf('-C') + 2)).toEqual(['-C', '3']);
  });
});
