/**
 * Tool outputs -> the structured inventory (contract/node.ts InventorySchema).
 * Pure: every parser runs guarded, so one garbled output becomes a
 * collector_errors entry and the rest of the inventory still comes out.
 */
import type { Inventory } from '../../contract/node.ts';
import { COLLECTORS, type CollectorKey, type Parsed } from '../collect/collectors.ts';
import type { DmiFacts } from '../parse/dmidecode.ts';
import { isPhysicalEther, mergeIpLink, type IpIface } from '../parse/ip.ts';
import { clean, isNullMac } from '../parse/kv-text.ts';
import type { LscpuFacts } from '../parse/lscpu.ts';
import { isNetworkClass } from '../parse/lspci.ts';
import type { LshwFacts } from '../parse/lshw.ts';
import type { CpuinfoFacts } from '../parse/proc.ts';
import { perNicTexts, toolText, type CollectorError, type ToolOutputs } from './tool-files.ts';

type Nic = Inventory['nics'][number];
type Pci = Inventory['pci'][number];

/** Vendors and products that mean "this is a virtual machine". */
const VIRTUAL_RE =
  /\b(qemu|kvm|vmware|virtualbox|innotek|xen|bochs|hyper-v|virtual machine|parallels|amazon ec2|openstack nova|google compute)\b/i;

/** Run one parser; a throw becomes a collector error. */
function guarded<T>(errors: CollectorError[], what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    errors.push({ collector: `parse:${what}`, error: String((e as Error)?.message ?? e).slice(0, 4000) });
    return undefined;
  }
}

/** Parse a collector's output with the table's parser; undefined when the output is absent. */
function parsed<K extends CollectorKey>(out: ToolOutputs, errors: CollectorError[], key: K): Parsed<K> | undefined {
  const t = toolText(out, key);
  const parse = COLLECTORS[key].parse as (text: string) => Parsed<K>;
  return t === undefined ? undefined : guarded(errors, key, () => parse(t));
}

/** Architecture from lscpu, else guessed from CPU flags (lm = x86-64, asimd = arm64). */
function arch(lscpu?: LscpuFacts, cpuinfo?: CpuinfoFacts, dmi?: DmiFacts): string | undefined {
  if (lscpu?.architecture) return lscpu.architecture;
  const flags = lscpu?.flags ?? cpuinfo?.flags ?? [];
  if (flags.includes('lm')) return 'x86_64';
  if (flags.includes('asimd') || /aarch64/i.test(cpuinfo?.model ?? '')) return 'aarch64';
  if (/ppc|power/i.test(cpuinfo?.model ?? '')) return 'ppc64le';
  if (dmi?.processors.some((p) => /xeon|epyc|core|opteron|pentium/i.test(p.model ?? ''))) return 'x86_64';
  if (dmi?.processors.some((p) => /kunpeng|arm|neoverse|ampere|graviton/i.test(`${p.model} ${p.manufacturer}`))) return 'aarch64';
  return undefined;
}

function buildNics(ip: IpIface[] | undefined, lshw: LshwFacts | undefined, out: ToolOutputs, errors: CollectorError[]): Nic[] {
  const nics = new Map<string, Nic>();
  for (const i of ip ?? []) {
    if (!isPhysicalEther(i) || !i.mac || isNullMac(i.mac)) continue;
    nics.set(i.name, { name: i.name, mac: i.mac, mtu: i.mtu, link: i.carrier, ipv4: i.ipv4, ipv6: i.ipv6 });
  }
  for (const l of lshw?.nics ?? []) {
    if (!l.name || !l.mac || isNullMac(l.mac)) continue;
    const n = nics.get(l.name) ?? (ip === undefined ? { name: l.name, mac: l.mac } : undefined);
    if (!n) continue; // ip saw the live set; lshw may list stale or virtual ones
    n.driver ??= l.driver;
    n.driver_version ??= l.driver_version;
    n.firmware_version ??= l.firmware_version;
    n.bus_info ??= l.bus_info;
    n.speed_mbps ??= l.speed_mbps;
    n.link ??= l.link;
    nics.set(l.name, n);
  }
  for (const [name, text] of perNicTexts(out, 'ethtool')) {
    const info = guarded(errors, `ethtool-${name}`, () => COLLECTORS.ethtool.parse(text));
    const n = nics.get(name);
    if (!info || !n) continue;
    n.driver = info.driver ?? n.driver;
    n.driver_version = info.version ?? n.driver_version;
    n.firmware_version = info.firmware_version ?? n.firmware_version;
    n.bus_info = info.bus_info ?? n.bus_info;
  }
  // Frames the microkernel captured win; lldpd's view fills in on hosts that run it.
  const lldp = { ...(parsed(out, errors, 'lldp') ?? {}), ...(parsed(out, errors, 'lldpFrames') ?? {}) };
  for (const [name, nb] of Object.entries(lldp)) {
    const n = nics.get(name);
    if (n) n.lldp = nb;
  }
  return [...nics.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

function buildPci(out: ToolOutputs, errors: CollectorError[], lshw?: LshwFacts): { pci: Pci[]; undriven: Pci[] } {
  const pci: Pci[] = (parsed(out, errors, 'lspci') ?? []).map((p) => ({
    slot: p.slot,
    vendor_id: p.vendor_id,
    device_id: p.device_id,
    class_id: p.class_id,
    driver: p.driver,
  }));
  const undriven = pci.filter((p) => isNetworkClass(p.class_id ?? '') && !p.driver);
  // lshw names NICs no driver claimed too (no logical name, no driver): add those lspci did not list.
  for (const l of lshw?.nics ?? []) {
    if (l.driver || !l.bus_info || undriven.some((u) => u.slot.endsWith(l.bus_info!))) continue;
    undriven.push({
      slot: l.bus_info,
      vendor_id: '',
      device_id: '',
      class_id: '0200',
      description: [l.vendor, l.product].filter(Boolean).join(' ') || undefined,
    });
  }
  return { pci, undriven };
}

/** Build the inventory from whatever subset of tool outputs is present. */
export function buildInventory(out: ToolOutputs): Inventory {
  const errors: CollectorError[] = [...out.errors];
  const dmi = parsed(out, errors, 'dmidecode');
  const lshw = parsed(out, errors, 'lshw');
  const lscpu = parsed(out, errors, 'lscpu');
  const cpuinfo = parsed(out, errors, 'cpuinfo');
  const meminfo = parsed(out, errors, 'meminfo');
  const dmiId = parsed(out, errors, 'dmiId') ?? {};
  // `ip -j addr` is the base; `ip -j -d link` adds link kinds and masters (either may be missing).
  const addr = parsed(out, errors, 'ipAddr');
  const link = parsed(out, errors, 'ipLink');
  const ip = addr && link ? mergeIpLink(addr, link) : (addr ?? link);
  const lsblk = parsed(out, errors, 'lsblk');
  const lan = parsed(out, errors, 'ipmiLan');
  const mc = parsed(out, errors, 'ipmiMc');
  const fru = parsed(out, errors, 'ipmiFru');

  const s = dmi?.system;
  const system: Inventory['system'] = {
    manufacturer: s?.manufacturer ?? lshw?.system.vendor ?? clean(dmiId['sys_vendor']),
    product: s?.product ?? lshw?.system.product ?? clean(dmiId['product_name']),
    version: s?.version ?? clean(dmiId['product_version']),
    serial: s?.serial ?? lshw?.system.serial ?? clean(dmiId['product_serial']),
    uuid: s?.uuid ?? lshw?.system.uuid ?? clean(dmiId['product_uuid'])?.toLowerCase(),
    sku: s?.sku ?? lshw?.system.sku,
    family: s?.family ?? lshw?.system.family,
    chassis_type: dmi?.chassis.type ?? lshw?.system.chassis,
    baseboard_product: dmi?.baseboard.product ?? clean(dmiId['board_name']),
    baseboard_serial: dmi?.baseboard.serial ?? clean(dmiId['board_serial']),
  };
  const virtHint = `${system.manufacturer ?? ''} ${system.product ?? ''}`;
  system.is_virtual = VIRTUAL_RE.test(virtHint) || !!lscpu?.hypervisor || (lscpu?.flags ?? cpuinfo?.flags ?? []).includes('hypervisor');

  const bootText = parsed(out, errors, 'bootMode');
  const firmware: Inventory['firmware'] = {
    vendor: dmi?.bios.vendor ?? clean(dmiId['bios_vendor']),
    version: dmi?.bios.version ?? clean(dmiId['bios_version']),
    date: dmi?.bios.date ?? clean(dmiId['bios_date']),
    boot_mode: bootText === 'uefi' ? 'uefi' : bootText === 'bios' ? 'bios' : 'unknown',
  };

  const procs = dmi?.processors ?? [];
  const sockets = lscpu?.sockets ?? cpuinfo?.physical ?? (procs.length || lshw?.cpus.length || undefined);
  const threads = lscpu?.cpus ?? (cpuinfo?.logical || undefined) ?? (procs.reduce((a, p) => a + (p.threads ?? 0), 0) || undefined);
  const coresDmi = procs.reduce((a, p) => a + (p.cores ?? 0), 0) || undefined;
  const cpu: Inventory['cpu'] = {
    model: lscpu?.model ?? cpuinfo?.model ?? procs[0]?.model ?? lshw?.cpus[0]?.model,
    architecture: arch(lscpu, cpuinfo, dmi),
    sockets,
    cores: lscpu?.cores_per_socket && sockets ? lscpu.cores_per_socket * sockets : coresDmi,
    threads,
    mhz: lscpu?.mhz ?? cpuinfo?.mhz ?? procs[0]?.mhz,
    flags: lscpu?.flags ?? cpuinfo?.flags,
  };

  const modules = dmi?.memory.length ? dmi.memory : (lshw?.memory_banks ?? []);
  const installed = modules.reduce((a, m) => a + m.size_mb, 0);
  const memory: Inventory['memory'] = { total_mb: installed > 0 ? installed : meminfo?.total_mb, modules: modules.slice(0, 256) };

  const lshwDisks = lshw?.disks ?? [];
  const disks: Inventory['disks'] = (lsblk ?? lshwDisks.map((d) => ({ ...d, type: 'disk' }))).map((d) => {
    const l = lshwDisks.find((x) => x.name === d.name);
    const { removable: _r, ...rest } = d as typeof d & { removable?: boolean };
    return { ...rest, serial: d.serial ?? l?.serial, model: d.model ?? l?.model };
  });

  const nics = buildNics(ip, lshw, out, errors);
  const { pci, undriven } = buildPci(out, errors, lshw);

  let bmc: Inventory['bmc'];
  if (lan || mc || fru || dmi?.ipmi) {
    bmc = {
      ipv4: lan?.ipv4,
      mac: lan?.mac,
      ip_source: lan?.ip_source,
      firmware_version: mc?.firmware_version,
      manufacturer: mc?.manufacturer,
      ipmi_version: mc?.ipmi_version ?? dmi?.ipmi?.spec_version,
      fru_serial: fru?.serial,
      fru_product: fru?.product,
    };
  }
  const inv: Inventory = {
    system,
    firmware,
    cpu,
    memory,
    disks: disks.slice(0, 1024),
    nics: nics.slice(0, 256),
    pci: pci.slice(0, 4096),
    undriven_nics: undriven.slice(0, 256),
    collector_errors: errors.slice(0, 256),
  };
  if (bmc) inv.bmc = bmc;
  return clampInventory(inv);
}

/** Field limits of contract/node.ts: hostile tool output must not make the register body invalid. */
const NAME_LIMITS: Record<string, number> = { name: 64, mac: 64, slot: 64, vendor_id: 8, device_id: 8, collector: 64 };

/** Truncate every string to its schema limit (4096 by default, names shorter; list items 64). */
export function clampInventory(inv: Inventory): Inventory {
  const walk = (v: unknown, key: string, depth: number): unknown => {
    if (typeof v === 'string') return v.slice(0, NAME_LIMITS[key] ?? 4096);
    if (depth > 6 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x.slice(0, 64) : walk(x, key, depth + 1)));
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = walk(o[k], k, depth + 1);
    return o;
  };
  walk(inv, '', 0);
  for (const d of inv.disks) d.name = d.name.slice(0, 128);
  return inv;
}
