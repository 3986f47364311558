// Parser tests on real tool outputs (test/fixtures/agent, provenance in PROVENANCE.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDmidecode, dmiSizeMb } from '../../agent/parse/dmidecode.ts';
import { parseLshw } from '../../agent/parse/lshw.ts';
import { parseLscpu } from '../../agent/parse/lscpu.ts';
import { parseLsblk, humanBytes } from '../../agent/parse/lsblk.ts';
import { isPhysicalEther, parseIp } from '../../agent/parse/ip.ts';
import { parseEthtoolInfo } from '../../agent/parse/ethtool.ts';
import { fruProduct, parseIpmiFru, parseIpmiLan, parseIpmiMc } from '../../agent/parse/ipmitool.ts';
import { parseLldp } from '../../agent/parse/lldp.ts';
import { parseCpuinfo, parseMeminfo } from '../../agent/parse/proc.ts';
import { parseLspci } from '../../agent/parse/lspci.ts';

const fx = (f: string): string => readFileSync(new URL(`../fixtures/agent/${f}`, import.meta.url), 'utf8');

describe('dmidecode', () => {
  const totalMb = (f: string): number => parseDmidecode(fx(f)).memory.reduce((a, m) => a + m.size_mb, 0);

  it('Dell PowerEdge M630: identity, BIOS, 2 CPUs, 8 x 8 GiB, IPMI', () => {
    const d = parseDmidecode(fx('dell-poweredge-m630.dmidecode.txt'));
    expect(d.system).toMatchObject({
      manufacturer: 'Dell Inc.',
      product: 'PowerEdge M630',
      serial: '4242',
      uuid: '4c4c4544-0036-3210-805a-b7c04f4d3632',
    });
    expect(d.bios).toEqual({ vendor: 'Dell Inc.', version: '1.2.5', date: '05/04/2015', uefi_capable: true });
    expect(d.baseboard.product).toBe('0PHY8D');
    expect(d.chassis.type).toBe('Multi-system');
    expect(d.processors).toHaveLength(2);
    expect(d.processors[0]).toMatchObject({ model: 'Intel(R) Xeon(R) CPU E5-2683 v3 @ 2.00GHz', cores: 14, threads: 28 });
    expect(d.memory).toHaveLength(8);
    expect(d.memory[0]).toMatchObject({ locator: 'A1', size_mb: 8192, speed_mts: 2133, part_number: 'M393A1G43DB0-CPB' });
    expect(d.ipmi?.spec_version).toBe('2.0');
  });

  it('memory totals across vendors (sizes in MB and GB spellings)', () => {
    expect(totalMb('dell-dss7500.dmidecode.txt')).toBe(12 * 16384);
    expect(totalMb('hpe-proliant-dl380p-gen8.dmidecode.txt')).toBe(65536); // 10 DIMMs of mixed sizes
    expect(totalMb('hpe-proliant-bl460c-gen10.dmidecode.txt')).toBe(4 * 16384);
    expect(totalMb('fujitsu-primergy-rx2540-m4.dmidecode.txt')).toBe(12 * 32768);
    expect(totalMb('lenovo-thinksystem-sr650.dmidecode.txt')).toBe(16 * 32768);
    expect(totalMb('huawei-taishan-200-arm64.dmidecode.txt')).toBe(16 * 32768);
    expect(totalMb('quanta-quantaplex-t41s-2u.dmidecode.txt')).toBe(16 * 16384);
    expect(totalMb('supermicro-sys-6018r.dmidecode.txt')).toBe(4 * 16384);
    expect(totalMb('laptop-lenovo-thinkpad-t480.dmidecode.txt')).toBe(2 * 8192);
    expect(totalMb('qemu-kvm-i440fx-seabios.dmidecode.txt')).toBe(16384);
  });

  it('serials, UUIDs and placeholders', () => {
    expect(parseDmidecode(fx('supermicro-sys-6018r.dmidecode.txt')).system).toMatchObject({
      manufacturer: 'Supermicro',
      product: 'SYS-6018R-TDTPR',
      serial: 'A177950X7709591',
    });
    expect(parseDmidecode(fx('quanta-quantaplex-t41s-2u.dmidecode.txt')).system.serial).toBe('QTFCKJ50800080');
    expect(parseDmidecode(fx('dell-dss7500.dmidecode.txt')).system.serial).toBe('4242-SERVICE_TAG');
    // hw-probe anonymised Lenovo serials to "--": a placeholder, so absent.
    const sr650 = parseDmidecode(fx('lenovo-thinksystem-sr650.dmidecode.txt'));
    expect(sr650.system.serial).toBeUndefined();
    expect(sr650.system.sku).toBe('7X06CTO1WW');
    expect(parseDmidecode(fx('fujitsu-primergy-rx2540-m4.dmidecode.txt')).host_interface?.interface_type).toBe(
      'KCS: Keyboard Controller Style',
    );
    expect(parseDmidecode(fx('hpe-proliant-dl380p-gen8.dmidecode.txt')).bios.uefi_capable).toBe(false);
    const vbox = parseDmidecode(fx('virtualbox.dmidecode.txt'));
    expect(vbox.system).toMatchObject({
      manufacturer: 'innotek GmbH',
      product: 'VirtualBox',
      uuid: '784198ec-5827-476e-9e24-b0e98e8958f5',
    });
    expect(parseDmidecode(fx('huawei-taishan-200-arm64.dmidecode.txt')).processors[0]).toMatchObject({
      model: 'Kunpeng 920-4826',
      cores: 48,
    });
  });

  it('size spellings and garbage', () => {
    expect(dmiSizeMb('16384 MB')).toBe(16384);
    expect(dmiSizeMb('32 GB')).toBe(32768);
    expect(dmiSizeMb('No Module Installed')).toBe(0);
    expect(
      parseDmidecode(
        'Handle 0xZZ\n\tSize: 1\nHandle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tUUID: 00000000-0000-0000-0000-000000000000\n',
      ).system.uuid,
    ).toBeUndefined();
  });
});

describe('lshw -json', () => {
  it('Dell R630 class: serial, UUID, one driven I350 port, two X710 ports with no driver, 2 SSDs', () => {
    const l = parseLshw(fx('dell-poweredge-r630-multinic.lshw.json'));
    expect(l.system).toMatchObject({ serial: '5BC2082', uuid: '44454c4c-4200-1043-8032-b5c04f303832', chassis: 'rackmount' });
    const driven = l.nics.filter((n) => n.driver);
    expect(driven.map((n) => [n.name, n.mac, n.driver, n.speed_mbps])).toContainEqual(['em3', 'f8:bc:12:0b:0b:40', 'igb', 1000]);
    const undriven = l.nics.filter((n) => !n.driver);
    expect(undriven.map((n) => n.bus_info)).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(undriven[0]?.product).toBe('Ethernet 10G 2P X710 Adapter');
    expect(l.disks).toEqual([
      { name: 'sda', size_bytes: 800166076416, model: 'INTEL SSDSC2BX80', serial: 'BTHC536205Y9800NGN', vendor: undefined },
      { name: 'sdb', size_bytes: 800166076416, model: 'INTEL SSDSC2BX80', serial: 'BTHC536205KX800NGN', vendor: undefined },
    ]);
    expect(l.memory_banks).toHaveLength(16);
    expect(l.memory_banks[0]?.size_mb).toBe(32767);
    expect(l.cpus).toHaveLength(2);
    expect(l.cpus[0]).toMatchObject({ model: 'Intel(R) Xeon(R) CPU E5-2699 v3 @ 2.30GHz', cores: 18, threads: 36 });
  });

  it('EMC S2600JF: vendor, serial, em1 MAC and four disks', () => {
    const l = parseLshw(fx('emc-intel-s2600jf.lshw.json'));
    expect(l.system).toMatchObject({ vendor: 'EMC', serial: 'FC6VW142000003', uuid: '9091f221-2c4b-11e3-bccb-001e67694cb8' });
    expect(l.nics.find((n) => n.name === 'em1')).toMatchObject({ mac: '00:1e:67:69:4c:b8', driver: 'igb' });
    expect(l.disks.map((d) => [d.name, d.size_bytes])).toEqual([
      ['sdb', 800176914432],
      ['sdc', 4000787030016],
      ['sdd', 4000787030016],
      ['sda', 8012390400],
    ]);
  });

  it('not JSON -> empty facts, no throw', () => {
    expect(parseLshw('<?xml version="1.0"?>').nics).toEqual([]);
  });
});

describe('lscpu', () => {
  it('JSON and text of the same 2-socket EPYC agree', () => {
    const j = parseLscpu(fx('amd-epyc-7451-2s.lscpu-J.json'));
    const t = parseLscpu(fx('amd-epyc-7451-2s.lscpu.txt'));
    expect(j).toMatchObject({ model: 'AMD EPYC 7451 24-Core Processor', cpus: 96, sockets: 2, cores_per_socket: 24, threads_per_core: 2 });
    expect({ ...t, architecture: undefined }).toEqual({ ...j, architecture: undefined });
  });
  it('arm64, POWER, hypervisors', () => {
    expect(parseLscpu(fx('aws-graviton2-arm64.lscpu.txt'))).toMatchObject({ architecture: 'aarch64', model: 'Neoverse-N1', cpus: 2 });
    expect(parseLscpu(fx('ibm-power7-64cpu.lscpu.txt'))).toMatchObject({ cpus: 64, sockets: 16, hypervisor: 'pHyp' });
    expect(parseLscpu(fx('kvm-guest-epyc-7282.lscpu.txt'))).toMatchObject({ cpus: 8, hypervisor: 'KVM' });
    expect(parseLscpu(fx('xen-guest.lscpu.txt')).hypervisor).toBe('Xen');
    expect(parseLscpu(fx('x86-host-rhel9.lscpu.txt'))).toMatchObject({ architecture: 'x86_64', cpus: 12, sockets: 2, mhz: 3326 });
    expect(parseLscpu(fx('x86-host-rhel9.lscpu.txt')).hypervisor).toBeUndefined();
  });
});

describe('lsblk', () => {
  it('-J -b -O: SATA SSD, SATA HDD, NVMe with serial and transport', () => {
    expect(parseLsblk(fx('sata-plus-nvme.lsblk-J-b-O.json'))).toEqual([
      expect.objectContaining({ name: 'sda', size_bytes: 240057409536, model: 'KINGSTON SH103S3', rotational: false }),
      expect.objectContaining({ name: 'sdb', size_bytes: 80026361856, model: 'WDC WD800JD-00MS', rotational: true }),
      expect.objectContaining({
        name: 'nvme0n1',
        size_bytes: 240057409536,
        serial: '50026B728203601D',
        transport: 'nvme',
        rotational: false,
      }),
    ]);
  });
  it('-O -P pairs: whole disks only (no loop, partitions)', () => {
    const d = parseLsblk(fx('qemu-openstack-guest.lsblk-O-P.txt'));
    expect(d.map((x) => x.name)).toEqual(['bcache0', 'bcache1', 'vda', 'vdb', 'vdc', 'vdd']);
    expect(d.find((x) => x.name === 'vda')?.size_bytes).toBe(300 * 1024 ** 3);
    expect(parseLsblk(fx('k8s-node.lsblk-O-P.txt')).map((x) => [x.name, x.size_bytes])).toEqual([['vda', 40 * 1024 ** 3]]);
    expect(humanBytes('61.9M')).toBe(Math.round(61.9 * 1024 * 1024));
  });
});

describe('ip', () => {
  it('ip -d address: 8 ports, bridges and OVS are not physical', () => {
    const all = parseIp(fx('openstack-compute.ip-d-address.txt'));
    const phys = all.filter(isPhysicalEther).filter((i) => i.name !== 'lo');
    expect(phys.map((i) => i.name)).toEqual(['ens3', 'ens4', 'ens5', 'ens6', 'ens7', 'ens8', 'ens9']);
    expect(phys[0]).toMatchObject({ mac: '52:54:00:e2:28:a3', mtu: 1500, carrier: true, master: 'br-ens3' });
    expect(all.find((i) => i.name === 'br-ens3')?.ipv4).toEqual(['10.0.0.128/24']);
  });
  it('addr + link text with VLAN sub-interfaces', () => {
    const all = parseIp(fx('virtualbox-vm.ip-addr-and-link.txt'));
    expect(all.find((i) => i.name === 'eth1')).toMatchObject({ mac: '08:00:27:aa:ce:94', ipv4: ['172.31.128.1/24'] });
    expect(all.find((i) => i.name === 'eth0')?.kind).toBeUndefined();
    expect(all.find((i) => i.name === 'eth0_100')?.kind).toBe('vlan');
    expect(all.filter(isPhysicalEther).map((i) => i.name)).toEqual(['eth0', 'eth1']);
  });
  it('ip -o link: infiniband has no 6-byte MAC, bond slaves share one', () => {
    const all = parseIp(fx('vm-bond-infiniband.ip-link-show-all.txt'));
    expect(all.find((i) => i.name === 'ib0')).toMatchObject({ link_type: 'infiniband', mac: undefined });
    expect(all.find((i) => i.name === 'eth2')).toMatchObject({ master: 'bond0', mac: '08:00:27:29:dc:a5' });
    expect(all.find((i) => i.name === 'ens160')?.mac).toBe('00:50:56:9a:51:af');
  });
  it('ip -j JSON', () => {
    const j = JSON.stringify([
      {
        ifindex: 2,
        ifname: 'eno1',
        flags: ['BROADCAST', 'UP', 'LOWER_UP'],
        mtu: 9000,
        link_type: 'ether',
        address: 'AA:BB:CC:00:11:22',
        addr_info: [{ family: 'inet', local: '10.1.2.3', prefixlen: 24 }],
      },
    ]);
    expect(parseIp(j)).toEqual([
      {
        name: 'eno1',
        mac: 'aa:bb:cc:00:11:22',
        link_type: 'ether',
        mtu: 9000,
        up: true,
        carrier: true,
        master: undefined,
        kind: undefined,
        ipv4: ['10.1.2.3/24'],
        ipv6: [],
      },
    ]);
  });
});

describe('ethtool, ipmitool, lldp, proc, lspci', () => {
  it('ethtool -i', () => {
    expect(parseEthtoolInfo(fx('virtio-net.ethtool-i.txt'))).toEqual({
      driver: 'virtio_net',
      version: '1.0.0',
      firmware_version: undefined,
      bus_info: '0000:00:03.0',
    });
    expect(parseEthtoolInfo(fx('loopback.ethtool-i.txt'))).toBeNull();
    expect(parseEthtoolInfo(fx('openvswitch-bridge.ethtool-i.txt'))?.driver).toBe('openvswitch');
  });
  it('ipmitool lan print / mc info / fru print', () => {
    expect(parseIpmiLan(fx('supermicro-bmc.ipmitool-lan-print.txt'))).toMatchObject({
      ipv4: undefined,
      mac: '00:25:90:83:d4:4c',
      ip_source: 'DHCP Address',
    });
    expect(parseIpmiMc(fx('intel-bmc.ipmitool-mc-info.txt'))).toEqual({
      firmware_version: '1.17',
      ipmi_version: '2.0',
      manufacturer: 'Intel Corporation',
      manufacturer_id: '343',
    });
    const fru = parseIpmiFru(fx('quanta-s210-x12rs.ipmitool-fru.txt'));
    expect(fru).toHaveLength(3);
    expect(fruProduct(fru)).toEqual({ serial: 'QTFCEV4120280', product: 'S210-X12RS V2', manufacturer: 'Quanta' });
  });
  it('lldpctl keyvalue and json (single interface as an object)', () => {
    expect(parseLldp(fx('arista-dcs-7010t.lldpctl-keyvalue.txt'))).toEqual({
      p20p2: { switch_id: '00:1c:73:ac:94:89', switch_name: 'mgmt01', mgmt_ip: '10.240.19.102', port_id: 'Ethernet50' },
    });
    const cu = parseLldp(fx('cumulus-dell-s4100.lldpctl-keyvalue.txt'));
    expect(cu['eno1']).toMatchObject({ switch_name: 'toto-chassis.dc42', port_id: 'swp46', port_descr: 'BXVWNR2:lom2' });
    expect(Object.keys(cu)).toEqual(['eno1', 'eno2d1']);
    expect(parseLldp(fx('juniper-qfx5100.lldpctl-keyvalue.txt'))['eth1']).toMatchObject({
      switch_name: 'sw-filer-f05.dc42',
      port_descr: 'xe-0/0/1',
      vlan: 296,
    });
    expect(parseLldp(fx('dedibox2.lldpctl-keyvalue.txt'))['eno1']).toMatchObject({
      switch_name: 's35-b12.dc3',
      port_id: 'Gi1/0/29',
      vlan: 140,
    });
    expect(parseLldp(fx('netgear-single-iface.lldpctl-json.json'))).toEqual({
      enp3s0: {
        switch_name: undefined,
        switch_id: '44:94:fc:9d:55:0a',
        port_id: 'g17',
        port_descr: undefined,
        vlan: undefined,
        mgmt_ip: '192.168.178.21',
      },
    });
  });
  it('/proc/cpuinfo and /proc/meminfo', () => {
    expect(parseCpuinfo(fx('amd-epyc-7451-2s.cpuinfo'))).toMatchObject({
      logical: 96,
      physical: 2,
      model: 'AMD EPYC 7451 24-Core Processor',
    });
    expect(parseCpuinfo(fx('vmware-xeon-e5-2697v4.cpuinfo'))).toMatchObject({ logical: 4, physical: 1 });
    expect(parseCpuinfo(fx('vmware-xeon-e5-2697v4.cpuinfo')).flags).toContain('hypervisor');
    expect(parseCpuinfo(fx('aarch64-4cpu.cpuinfo'))).toMatchObject({ logical: 4, model: 'AArch64 Processor rev 4 (aarch64)' });
    expect(parseCpuinfo(fx('ppc64le-power8-host.cpuinfo'))).toMatchObject({ logical: 20, model: 'POWER8E (raw), altivec supported' });
    expect(parseMeminfo(fx('vm-4g.meminfo'))).toEqual({ total_mb: 3942, free_mb: 3465, available_mb: 3574, swap_mb: 2048 });
    expect(parseMeminfo(fx('numa-node0.meminfo')).total_mb).toBe(16009);
    expect(parseMeminfo(fx('lxd-container.meminfo')).total_mb).toBe(1024);
  });
  it('lspci -vmmnk records', () => {
    const t =
      'Slot:\t0000:01:00.0\nClass:\t0200\nVendor:\t14e4\nDevice:\t16d8\n\nSlot:\t0000:02:00.0\nClass:\t0200\nVendor:\t8086\nDevice:\t1521\nDriver:\tigb\n';
    expect(parseLspci(t)).toEqual([
      { slot: '0000:01:00.0', class_id: '0200', vendor_id: '14e4', device_id: '16d8', driver: undefined },
      { slot: '0000:02:00.0', class_id: '0200', vendor_id: '8086', device_id: '1521', driver: 'igb' },
    ]);
  });
});

describe('JSON forms captured on the CI VM (local rows in PROVENANCE.md)', () => {
  it('ip -j addr + ip -j -d link: eth0 is the one physical port, ifb devices are not', () => {
    const all = parseIp(fx('ci-vm.ip-j-addr.json'), fx('ci-vm.ip-j-d-link.json'));
    expect(all.map((i) => i.name)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(all.find((i) => i.name === 'ifb0')?.kind).toBe('ifb');
    const phys = all.filter(isPhysicalEther);
    expect(phys.map((i) => [i.name, i.mac, i.mtu, i.carrier])).toEqual([['eth0', '02:fc:00:00:00:01', 1400, true]]);
    expect(phys[0]!.ipv4).toEqual(['192.0.2.2/24']);
  });
  it('lscpu -J, lsblk -J -b -O (zram is not a disk), lspci -Dvmmnk', () => {
    expect(parseLscpu(fx('ci-vm.lscpu-J.json'))).toMatchObject({ architecture: 'x86_64', cpus: 2, model: 'AMD EPYC', hypervisor: 'KVM' });
    expect(parseLsblk(fx('ci-vm.lsblk-J-b-O.json')).map((d) => [d.name, d.size_bytes, d.rotational])).toEqual([
      ['vda', 274877906944, true],
    ]);
    const pci = parseLspci(fx('ci-vm.lspci-Dvmmnk.txt'));
    expect(pci.find((p) => p.class_id === '0200')).toEqual({
      slot: '0000:00:03.0',
      class_id: '0200',
      vendor_id: '1af4',
      device_id: '1041',
      driver: 'virtio-pci',
    });
  });
});
