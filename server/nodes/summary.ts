/** What the node table shows, derived (pure) from facts and inventory. */
import type { Facts, Inventory } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : null;

/** Table summary from inventory, falling back to flat facts. */
export function summarize(facts: Facts, inv: Inventory | null): NodeDoc['summary'] {
  const disks = inv?.disks.filter((d) => d.type === undefined || d.type === 'disk') ?? null;
  return {
    cpu_model: str(inv?.cpu.model) ?? str(facts.processor0) ?? str(facts.cpu_model),
    cpu_count: num(inv?.cpu.threads) ?? num(facts.processorcount),
    memory_mb: num(inv?.memory.total_mb) ?? num(facts.memorysize_mb),
    disk_count: disks ? disks.length : num(facts.blockdevice_count),
    disk_total_bytes: disks ? disks.reduce((a, d) => a + (d.size_bytes || 0), 0) : null,
    nic_count: inv ? inv.nics.length : null,
    bmc_ip: str(inv?.bmc?.ipv4) ?? str(facts.bmc_ipaddress),
  };
}

/** Node-level identity and platform fields from facts/inventory. */
export function platformFields(facts: Facts, inv: Inventory | null): Pick<NodeDoc, 'manufacturer' | 'product' | 'boot_mode'> {
  return {
    manufacturer: str(inv?.system.manufacturer) ?? str(facts.manufacturer),
    product: str(inv?.system.product) ?? str(facts.productname),
    boot_mode: inv?.firmware.boot_mode && inv.firmware.boot_mode !== 'unknown' ? inv.firmware.boot_mode : str(facts.boot_mode),
  };
}
