/**
 * Tinkerbell `Hardware` objects (apiVersion tinkerbell.org/v1alpha1, the fields
 * of tink's api/v1alpha1/hardware_types.go; test/fixtures/exports/PROVENANCE):
 * one YAML document per node with `spec.interfaces[]` (dhcp: mac, hostname, ip,
 * arch, uefi; netboot: allowPXE, allowWorkflow), `spec.disks[]` and
 * `spec.metadata`. Names follow Kubernetes object naming (RFC 1123 label). Pure.
 */
import type { ExportInput, ExportNode } from './export-input.ts';
import { exportName, netmaskOf } from './export-input.ts';
import { yamlStream, type YamlValue } from './yaml-text.ts';

/** A Kubernetes object name (RFC 1123 subdomain, lower case, at most 253). */
export function k8sName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return n.slice(0, 253) || 'node';
}

/** Tinkerbell's arch names are the kernel's (`x86_64`, `aarch64`). */
function archOf(e: ExportNode): string | undefined {
  const a = e.inventory?.cpu.architecture ?? e.node.arch ?? undefined;
  return a === 'amd64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : (a ?? undefined);
}

function hardware(e: ExportNode, input: ExportInput): YamlValue {
  const n = e.node;
  const name = exportName(n);
  const uefi = (n.boot_mode ?? e.inventory?.firmware.boot_mode) === 'uefi';
  const macs = n.boot_mac ? [n.boot_mac, ...n.macs.filter((m) => m !== n.boot_mac)] : n.macs;
  const interfaces = macs.map((mac, i) => ({
    dhcp: {
      mac: mac.toLowerCase(),
      hostname: name,
      ...(i === 0 && n.ip ? { ip: { address: n.ip, ...(input.prefix ? { netmask: netmaskOf(input.prefix) } : {}), family: 4 } } : {}),
      ...(archOf(e) ? { arch: archOf(e)! } : {}),
      uefi,
      ...(e.inventory?.nics.find((x) => x.mac.toLowerCase() === mac.toLowerCase())
        ? { iface_name: e.inventory.nics.find((x) => x.mac.toLowerCase() === mac.toLowerCase())!.name }
        : {}),
    },
    netboot: { allowPXE: i === 0, allowWorkflow: i === 0 },
  }));
  return {
    apiVersion: 'tinkerbell.org/v1alpha1',
    kind: 'Hardware',
    metadata: { name: k8sName(`${name}-${n.id}`), labels: { 'crashcart.io/node-id': String(n.id) } },
    spec: {
      interfaces,
      disks: (e.inventory?.disks ?? []).filter((d) => /^[A-Za-z0-9_-]+$/.test(d.name)).map((d) => ({ device: `/dev/${d.name}` })),
      metadata: {
        state: n.state === 'installed' ? 'in_use' : 'provisioning',
        ...(n.manufacturer ? { manufacturer: { slug: k8sName(n.manufacturer) } } : {}),
        instance: {
          id: n.uuid ?? String(n.id),
          hostname: name,
          ...(n.ip ? { ips: [{ address: n.ip, ...(input.prefix ? { netmask: netmaskOf(input.prefix) } : {}), family: 4 }] } : {}),
          tags: n.tags,
        },
      },
    },
  };
}

/** Every node as a Hardware document. */
export function renderTinkerbell(input: ExportInput): string {
  return yamlStream(input.nodes.map((e) => hardware(e, input)));
}
