// Inventory and flat facts from replay folders (the lab profiles and the fixture set), checked against the contract.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { InventorySchema } from '../../contract/node.ts';
import { RegisterRequestSchema } from '../../contract/protocol.ts';
import { factsHash } from '../../contract/facts-hash.ts';
import { readToolDir } from '../../agent/collect/replay.ts';
import { buildInventory } from '../../agent/facts/inventory.ts';
import { compileExclude, excludeFacts, flatFacts, wireFacts } from '../../agent/facts/flat-facts.ts';
import { buildRegisterRequest, hwId, inventoryMacs } from '../../agent/loop/register-request.ts';
import { DEFAULT_PROFILES_DIR, loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { parseDmidecode } from '../../agent/parse/dmidecode.ts';
import { parseLshw } from '../../agent/parse/lshw.ts';
import { parseLscpu } from '../../agent/parse/lscpu.ts';
import { parseLsblk } from '../../agent/parse/lsblk.ts';
import { parseIp } from '../../agent/parse/ip.ts';
import { parseLldp } from '../../agent/parse/lldp.ts';
import { parseIpmiFru, parseIpmiLan, parseIpmiMc } from '../../agent/parse/ipmitool.ts';
import { parseCpuinfo, parseMeminfo } from '../../agent/parse/proc.ts';
import { parseLspci } from '../../agent/parse/lspci.ts';
import { parseEthtoolInfo } from '../../agent/parse/ethtool.ts';
import type { ToolOutputs } from '../../agent/facts/tool-files.ts';

/** What goes over the wire (undefined dropped), as the server's validator sees it. */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const profileDir = (n: string) => `${DEFAULT_PROFILES_DIR}/${n}`;

describe('inventory from replay folders', () => {
  it('every lab profile gives a schema-valid inventory and register body', async () => {
    const profiles = await loadProfiles();
    expect(profiles.length).toBeGreaterThanOrEqual(8);
    for (const p of profiles) {
      expect(Value.Check(InventorySchema, wire(p.inventory)), p.name).toBe(true);
      const { request, facts_hash } = buildRegisterRequest(p.inventory, { token: 'enrol-token-123', nodeId: 3 }, null);
      expect(Value.Check(RegisterRequestSchema, wire(request)), p.name).toBe(true);
      expect(factsHash(wire(request).facts)).toBe(facts_hash);
      expect(p.inventory.collector_errors).toEqual([]);
    }
  });

  it('Supermicro profile: identity, 2 x E5-2630 v4, 64 GiB, disks from lsblk, BMC from ipmitool lan print', async () => {
    const inv = buildInventory(await readToolDir(profileDir('supermicro-6018r')));
    const f = flatFacts(inv);
    expect(f).toMatchObject({
      manufacturer: 'Supermicro',
      productname: 'SYS-6018R-TDTPR',
      serialnumber: 'A177950X7709591',
      physicalprocessorcount: 2,
      processorcount: 40,
      memorysize_mb: 65536,
      is_virtual: false,
      blockdevice_sda_size: 240057409536,
      blockdevice_nvme0n1_size: 240057409536,
      bmc_macaddress: '00:25:90:83:d4:4c',
      macaddress_ens4: '52:54:00:bb:47:e2',
      boot_mode: 'uefi',
    });
    expect(f['bmc_ipaddress']).toBeUndefined(); // lan print said 0.0.0.0
    expect(inv.nics.map((n) => n.name)).toEqual(['ens3', 'ens4', 'ens5', 'ens6', 'ens7', 'ens8', 'ens9']);
  });

  it('Fujitsu profile: LLDP neighbours land on the right NICs', async () => {
    const f = flatFacts(buildInventory(await readToolDir(profileDir('fujitsu-rx2540-m4'))));
    expect(f).toMatchObject({
      lldp_eth0_switch: 'sw-filer-f06.dc42',
      lldp_eth1_switch: 'sw-filer-f05.dc42',
      lldp_eth0_vlan: 296,
      macaddress_eth1: '08:00:27:aa:ce:94',
    });
  });

  it('Dell profile: the X710 ports with no driver are reported as undriven NICs', async () => {
    const inv = buildInventory(await readToolDir(profileDir('dell-poweredge')));
    expect(inv.undriven_nics.map((u) => u.slot)).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(inv.nics.map((n) => [n.name, n.mac, n.driver])).toEqual([
      ['em3', 'f8:bc:12:0b:0b:40', 'igb'],
      ['em4', 'f8:bc:12:0b:0b:41', 'igb'],
    ]);
    expect(flatFacts(inv)['undriven_nics']).toContain('X710');
  });

  it('lspci lists a NIC no driver claimed: vendor:device in the facts (the bnx2 story)', () => {
    const out: ToolOutputs = {
      files: new Map([
        [
          'lspci.txt',
          'Slot:\t0000:01:00.0\nClass:\t0200\nVendor:\t14e4\nDevice:\t16d8\n\nSlot:\t0000:00:19.0\nClass:\t0200\nVendor:\t8086\nDevice:\t153a\nDriver:\te1000e\n',
        ],
        [
          'ip-link.txt',
          '2: eno1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether 00:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff\n',
        ],
      ]),
      errors: [],
    };
    const inv = buildInventory(out);
    expect(inv.undriven_nics).toEqual([
      { slot: '0000:01:00.0', vendor_id: '14e4', device_id: '16d8', class_id: '0200', driver: undefined },
    ]);
    expect(flatFacts(inv)['undriven_nics']).toBe('14e4:16d8');
  });

  it('Huawei profile is arm64; QEMU profile is virtual', async () => {
    const arm = flatFacts(buildInventory(await readToolDir(profileDir('huawei-taishan-arm64'))));
    expect(arm).toMatchObject({ architecture: 'arm64', manufacturer: 'Huawei', memorysize_mb: 16 * 32768 });
    const vm = flatFacts(buildInventory(await readToolDir(profileDir('qemu-kvm-guest'))));
    expect(vm).toMatchObject({ is_virtual: true, virtual: 'kvm', driver_ens3: 'virtio_net', memorysize_mb: 16384 });
  });

  it('an empty or garbled folder gives an inventory with collector errors, not a crash', () => {
    const inv = buildInventory({
      files: new Map([
        ['lshw.json', '{not json'],
        ['dmidecode.txt', '\u0000\u0001garbage'],
      ]),
      errors: [{ collector: 'dmidecode', error: 'not installed' }],
    });
    expect(inv.nics).toEqual([]);
    expect(inv.collector_errors).toEqual([{ collector: 'dmidecode', error: 'not installed' }]);
    expect(() => buildRegisterRequest(inv, { token: 'tokentoken' }, null)).toThrow(/MAC/);
  });
});

describe('flat facts, exclusion and hash', () => {
  it('the exclusion pattern removes facts and the hash is the contract hash of what is sent', async () => {
    const inv = (await loadProfiles()).find((p) => p.name === 'supermicro-6018r')!.inventory;
    const all = flatFacts(inv);
    const { re } = compileExclude('^(blockdevice_|macaddress_)');
    const { facts, facts_hash } = wireFacts(inv, re);
    expect(Object.keys(all).some((k) => k.startsWith('blockdevice_'))).toBe(true);
    expect(Object.keys(facts).some((k) => k.startsWith('blockdevice_') || k.startsWith('macaddress_'))).toBe(false);
    expect(facts['macaddress']).toBe(all['macaddress']);
    expect(facts_hash).toBe(factsHash(facts));
    expect(facts_hash).not.toBe(factsHash(all));
  });

  it('an invalid pattern excludes nothing and says why', () => {
    const c = compileExclude('([');
    expect(c.re).toBeNull();
    expect(c.error).toMatch(/not a valid regular expression/);
    expect(excludeFacts({ a: 1 }, c.re)).toEqual({ a: 1 });
  });

  it('personalized lab nodes differ in MACs, serials and UUIDs, deterministically', async () => {
    const p = (await loadProfiles())[0]!;
    const ids = Array.from({ length: 300 }, (_, i) => personalize(p, 5, i));
    expect(new Set(ids.map((x) => x.id.mac)).size).toBe(300);
    expect(new Set(ids.map((x) => x.id.serial)).size).toBe(300);
    expect(new Set(ids.map((x) => x.id.uuid)).size).toBe(300);
    expect(new Set(ids.flatMap((x) => inventoryMacs(x.inventory))).size).toBe(300 * inventoryMacs(p.inventory).length);
    expect(personalize(p, 5, 17).id).toEqual(ids[17]!.id);
    expect(personalize(p, 6, 17).id.mac).not.toBe(ids[17]!.id.mac);
    expect(hwId(['b', 'a'])).toBe(hwId(['a', 'b']));
  });
});

describe('hostile input never escapes a parser', () => {
  const parsers: [string, (t: string) => unknown][] = [
    ['dmidecode', parseDmidecode],
    ['lshw', parseLshw],
    ['lscpu', parseLscpu],
    ['lsblk', parseLsblk],
    ['ip', (t) => parseIp(t, t)],
    ['lldp', parseLldp],
    ['ipmi lan', parseIpmiLan],
    ['ipmi mc', parseIpmiMc],
    ['ipmi fru', parseIpmiFru],
    ['cpuinfo', parseCpuinfo],
    ['meminfo', parseMeminfo],
    ['lspci', parseLspci],
    ['ethtool', parseEthtoolInfo],
  ];
  const structured = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.json({ maxDepth: 4 }),
    fc
      .array(
        fc.constantFrom(
          'Handle 0x0001, DMI type 17, 40 bytes\n',
          'Memory Device\n',
          '\tSize: 99 GB\n',
          '\t\tx\n',
          'lldp.eth0.chassis.name=sw\n',
          '{"lldp":{"interface":[',
          '2: e: <UP>\n',
          '    link/ether zz\n',
          'NAME="sda" TYPE="disk" SIZE="1G"\n',
          ': :\n',
          '\n',
        ),
        { maxLength: 60 },
      )
      .map((a) => a.join('')),
  );
  for (const [name, fn] of parsers) {
    it(`${name}: arbitrary text`, () => {
      fc.assert(
        fc.property(structured, (t) => {
          fn(t);
        }),
        { numRuns: 150 },
      );
    });
  }
  it('buildInventory on arbitrary files', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'dmidecode.txt',
            'lshw.json',
            'lsblk.json',
            'ip-addr.json',
            'lldpctl.json',
            'ipmitool-lan.txt',
            'cpuinfo',
            'lspci.txt',
            'ethtool-eth0.txt',
          ),
          structured,
        ),
        (files) => {
          const inv = buildInventory({ files: new Map(Object.entries(files)), errors: [] });
          expect(Value.Check(InventorySchema, wire(inv))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
  it('over-long names and values are cut to the contract limits', () => {
    const long = 'x'.repeat(5000);
    const j = JSON.stringify([
      {
        ifname: `eth${long}`,
        flags: ['UP'],
        link_type: 'ether',
        address: '00:11:22:33:44:55',
        addr_info: [{ family: 'inet', local: long }],
      },
    ]);
    const inv = buildInventory({
      files: new Map([
        ['ip-addr.json', j],
        ['lscpu.txt', `Model name: ${long}\nFlags: ${long}`],
      ]),
      errors: [],
    });
    expect(inv.nics[0]!.name.length).toBe(64);
    expect(inv.cpu.model!.length).toBe(4096);
    expect(Value.Check(InventorySchema, wire(inv))).toBe(true);
    const { request } = buildRegisterRequest(inv, { token: 'tokentoken' }, null);
    expect(Value.Check(RegisterRequestSchema, wire(request))).toBe(true);
  });
});
