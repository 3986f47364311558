/**
 * Inventory -> flat, Facter-style facts for tag rules, plus the exclusion
 * filter the appliance pushes (`facts_exclude_pattern`). Pure.
 */
import type { Facts, Inventory } from '../../contract/node.ts';
import { factsHash } from '../../contract/facts-hash.ts';

/** Facter sanitises interface and device names in fact names: anything but [A-Za-z0-9_] becomes "_". */
export function factName(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Facter-style human size ("15.62 GiB"). */
function human(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GiB` : `${mb.toFixed(2)} MiB`;
}

/** What `virtual` says (Facter names: physical, kvm, vmware, virtualbox, xenhvm, hyperv). */
function virtualKind(inv: Inventory): string {
  const s = `${inv.system.manufacturer ?? ''} ${inv.system.product ?? ''}`.toLowerCase();
  if (!inv.system.is_virtual) return 'physical';
  if (s.includes('vmware')) return 'vmware';
  if (s.includes('virtualbox') || s.includes('innotek')) return 'virtualbox';
  if (s.includes('xen')) return 'xenhvm';
  if (s.includes('microsoft')) return 'hyperv';
  return 'kvm';
}

/** Build the flat facts; undefined values are left out. */
export function flatFacts(inv: Inventory): Facts {
  const f: Facts = {};
  const put = (k: string, v: string | number | boolean | undefined): void => {
    if (v !== undefined && v !== '') f[k] = v;
  };
  put('manufacturer', inv.system.manufacturer);
  put('productname', inv.system.product);
  put('serialnumber', inv.system.serial);
  put('uuid', inv.system.uuid);
  put('sku', inv.system.sku);
  put('chassistype', inv.system.chassis_type);
  put('boardproductname', inv.system.baseboard_product);
  put('boardserialnumber', inv.system.baseboard_serial);
  put('is_virtual', inv.system.is_virtual ?? false);
  put('virtual', virtualKind(inv));
  put('bios_vendor', inv.firmware.vendor);
  put('bios_version', inv.firmware.version);
  put('bios_release_date', inv.firmware.date);
  put('boot_mode', inv.firmware.boot_mode);
  put('secure_boot', inv.firmware.secure_boot);
  put('architecture', inv.cpu.architecture === 'x86_64' ? 'amd64' : inv.cpu.architecture === 'aarch64' ? 'arm64' : inv.cpu.architecture);
  put('hardwaremodel', inv.cpu.architecture);
  put('processor0', inv.cpu.model);
  put('processorcount', inv.cpu.threads);
  put('physicalprocessorcount', inv.cpu.sockets);
  put('processorcorecount', inv.cpu.cores);
  if (inv.memory.total_mb !== undefined) {
    put('memorysize_mb', inv.memory.total_mb);
    put('memorysize', human(inv.memory.total_mb));
  }
  put('memorymodulecount', inv.memory.modules.length);

  put('interfaces', inv.nics.map((n) => factName(n.name)).join(','));
  put('macaddress', inv.nics[0]?.mac);
  for (const n of inv.nics) {
    const k = factName(n.name);
    put(`macaddress_${k}`, n.mac);
    put(`ipaddress_${k}`, n.ipv4?.[0]?.split('/')[0]);
    put(`mtu_${k}`, n.mtu);
    put(`driver_${k}`, n.driver);
    put(`speed_${k}`, n.speed_mbps);
    if (n.link !== undefined) put(`link_${k}`, n.link);
    put(`lldp_${k}_switch`, n.lldp?.switch_name ?? n.lldp?.switch_id);
    put(`lldp_${k}_port`, n.lldp?.port_id);
    put(`lldp_${k}_vlan`, n.lldp?.vlan);
  }
  put('nic_count', inv.nics.length);

  put('blockdevices', inv.disks.map((d) => factName(d.name)).join(','));
  let diskTotal = 0;
  for (const d of inv.disks) {
    const k = factName(d.name);
    diskTotal += d.size_bytes;
    put(`blockdevice_${k}_size`, d.size_bytes);
    put(`blockdevice_${k}_model`, d.model);
    put(`blockdevice_${k}_vendor`, d.vendor);
    put(`blockdevice_${k}_serial`, d.serial);
    if (d.rotational !== undefined) put(`blockdevice_${k}_rotational`, d.rotational);
  }
  put('disk_count', inv.disks.length);
  put('disk_total_bytes', diskTotal);

  if (inv.bmc) {
    put('bmc_ipaddress', inv.bmc.ipv4);
    put('bmc_macaddress', inv.bmc.mac);
    put('bmc_firmware', inv.bmc.firmware_version);
    put('bmc_manufacturer', inv.bmc.manufacturer);
    put('bmc_ipmi_version', inv.bmc.ipmi_version);
  }
  put('undriven_nics', inv.undriven_nics.map((p) => (p.vendor_id ? `${p.vendor_id}:${p.device_id}` : (p.description ?? p.slot))).join(','));
  put('collector_error_count', inv.collector_errors.length);
  return f;
}

/**
 * Whether this process runs V8 with `--enable-experimental-regexp-engine` (the microkernel's supervisor
 * starts the agent so): the `l` flag then compiles a pattern for V8's linear-time engine, and a pushed
 * pattern such as `^(a+)+$` cannot hang the agent on a long fact name (catastrophic backtracking).
 */
export const LINEAR_REGEXP = ((): boolean => {
  try {
    // eslint-disable-next-line no-invalid-regexp -- the 'l' flag exists only under --enable-experimental-regexp-engine
    new RegExp('', 'l');
    return true;
  } catch {
    return false;
  }
})();

/** Compile the pushed exclusion pattern; an invalid pattern excludes nothing (and says so). */
export function compileExclude(pattern: string): { re: RegExp | null; error?: string } {
  if (pattern.trim() === '') return { re: null };
  try {
    return { re: new RegExp(pattern, LINEAR_REGEXP ? 'l' : '') };
  } catch (e) {
    return {
      re: null,
      error: `facts_exclude_pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`,
    };
  }
}

/** Drop facts whose name matches the pattern. */
export function excludeFacts(facts: Facts, re: RegExp | null): Facts {
  if (!re) return facts;
  const out: Facts = {};
  for (const [k, v] of Object.entries(facts)) if (!re.test(k)) out[k] = v;
  return out;
}

/** The facts that go on the wire and the hash the appliance will compute on them. */
export function wireFacts(inv: Inventory, exclude: RegExp | null): { facts: Facts; facts_hash: string } {
  const facts = excludeFacts(flatFacts(inv), exclude);
  return { facts, facts_hash: factsHash(facts) };
}
