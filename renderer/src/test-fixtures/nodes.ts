/** Node records for component tests, built the way the admin API returns them. */
import type { Node, NodeState } from '../../../contract/node.ts';

/** One node; override any field. */
export function makeNode(id: number, over: Partial<Node> = {}): Node {
  return {
    id,
    facts_complete: true,
    hostname: `node${id}`,
    state: 'registered' as NodeState,
    macs: [`52:54:00:00:${String(Math.floor(id / 256) % 256).padStart(2, '0')}:${(id % 256).toString(16).padStart(2, '0')}`],
    boot_mac: `52:54:00:00:00:${(id % 256).toString(16).padStart(2, '0')}`,
    uuid: null,
    serial: `SN${1000 + id}`,
    manufacturer: id % 2 === 0 ? 'Dell Inc.' : 'Supermicro',
    product: id % 2 === 0 ? 'PowerEdge R650' : 'SYS-1029P',
    arch: 'x86_64',
    platform: 'pcbios',
    boot_mode: 'uefi',
    ip: `10.42.0.${100 + (id % 100)}`,
    tags: id % 3 === 0 ? ['big-memory'] : [],
    policy: null,
    bound_explicitly: false,
    efi_loader: null,
    facts_hash: null,
    created_at: '2026-01-01T00:00:00.000Z',
    registered_at: '2026-01-01T00:00:10.000Z',
    last_seen: '2026-01-01T00:01:00.000Z',
    summary: {
      cpu_model: 'Xeon',
      cpu_count: 32 + (id % 4),
      memory_mb: 65536 * (1 + (id % 3)),
      disk_count: 2,
      disk_total_bytes: 2e12,
      nic_count: 2,
      bmc_ip: `10.1.0.${id % 250}`,
    },
    metadata: {},
    conflicts: [],
    approved: true,
    ...over,
  };
}
