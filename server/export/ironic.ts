/**
 * Ironic nodes in the resources-file format `baremetal create FILE.json` reads
 * (python-ironicclient create_resources: `{"nodes": [...]}`, each node the
 * body of `POST /v1/nodes` plus its `ports`; test/fixtures/exports/PROVENANCE).
 * `properties` carry the scheduling figures Ironic names (cpus, memory_mb,
 * local_gb, cpu_arch, capabilities); the inventory we collected goes into
 * `extra.crashcart_inventory` in the shape ironic-python-agent reports it, since
 * a node body has no inventory field. Pure.
 */
import type { Inventory } from '../../contract/index.ts';
import type { ExportInput, ExportNode } from './export-input.ts';
import { exportName } from './export-input.ts';

const GIB = 1024 ** 3;

/** The inventory in ironic-python-agent's shape (its hardware.py `list_hardware_info`). */
export function ipaInventory(inv: Inventory, hostname: string): Record<string, unknown> {
  return {
    interfaces: inv.nics.map((n) => ({ name: n.name, mac_address: n.mac.toLowerCase(), ipv4_address: n.ipv4?.[0]?.split('/')[0] ?? null })),
    cpu: {
      model_name: inv.cpu.model ?? null,
      frequency: inv.cpu.mhz ?? null,
      count: inv.cpu.threads ?? inv.cpu.cores ?? null,
      architecture: inv.cpu.architecture ?? null,
      flags: inv.cpu.flags ?? [],
    },
    memory: {
      total: inv.memory.total_mb !== undefined ? inv.memory.total_mb * 1024 * 1024 : null,
      physical_mb: inv.memory.total_mb ?? null,
    },
    disks: inv.disks.map((d) => ({
      name: `/dev/${d.name}`,
      size: d.size_bytes,
      model: d.model ?? null,
      rotational: d.rotational ?? null,
      serial: d.serial ?? null,
      vendor: d.vendor ?? null,
      wwn: d.wwn ?? null,
    })),
    system_vendor: {
      product_name: inv.system.product ?? null,
      serial_number: inv.system.serial ?? null,
      manufacturer: inv.system.manufacturer ?? null,
    },
    boot: { current_boot_mode: inv.firmware.boot_mode === 'unknown' ? null : inv.firmware.boot_mode },
    bmc_address: inv.bmc?.ipv4 ?? null,
    hostname,
  };
}

/** Ironic's cpu_arch names are the kernel's. */
function cpuArch(e: ExportNode): string | null {
  const a = e.inventory?.cpu.architecture ?? e.node.arch;
  return a === 'amd64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : (a ?? null);
}

function ironicNode(e: ExportNode): Record<string, unknown> {
  const n = e.node;
  const name = exportName(n);
  const bmc = n.summary.bmc_ip;
  const largest = Math.max(0, ...(e.inventory?.disks ?? []).map((d) => d.size_bytes));
  const bootMode = n.boot_mode ?? e.inventory?.firmware.boot_mode;
  const props: Record<string, unknown> = {
    ...(n.summary.cpu_count !== null ? { cpus: n.summary.cpu_count } : {}),
    ...(n.summary.memory_mb !== null ? { memory_mb: n.summary.memory_mb } : {}),
    // Ironic's local_gb is the root disk in GiB (rounded down); without disks we say nothing.
    ...(largest ? { local_gb: Math.floor(largest / GIB) } : {}),
    ...(cpuArch(e) ? { cpu_arch: cpuArch(e) } : {}),
    ...(bootMode === 'uefi' || bootMode === 'bios' ? { capabilities: `boot_mode:${bootMode}` } : {}),
  };
  return {
    name,
    // Without a BMC address Ironic can only be told the node is powered by hand.
    driver: bmc ? 'ipmi' : 'manual-management',
    driver_info: bmc ? { ipmi_address: bmc } : {},
    properties: props,
    extra: {
      crashcart_id: n.id,
      crashcart_state: n.state,
      crashcart_tags: n.tags,
      ...(n.serial ? { crashcart_serial: n.serial } : {}),
      crashcart_inventory: e.inventory ? ipaInventory(e.inventory, name) : null,
    },
    ...(n.uuid && /^[0-9a-fA-F-]{36}$/.test(n.uuid) ? { uuid: n.uuid.toLowerCase() } : {}),
    ports: n.macs.map((mac) => ({
      address: mac.toLowerCase(),
      pxe_enabled: mac === n.boot_mac || (n.boot_mac === null && n.macs.length === 1),
    })),
  };
}

/** Every node as a `baremetal create` resources file. */
export function renderIronic(input: ExportInput): string {
  return JSON.stringify({ nodes: input.nodes.map(ironicNode) }, null, 2) + '\n';
}
