/** Inventory -> the register body (contract/protocol.ts RegisterRequestSchema). Pure. */
import { createHash } from 'node:crypto';
import type { Inventory } from '../../contract/node.ts';
import { PROTOCOL_VERSION, type RegisterRequest } from '../../contract/protocol.ts';
import { wireFacts } from '../facts/flat-facts.ts';
import { isNullMac } from '../parse/kv-text.ts';

/** The node's MACs, lower-case, de-duplicated (bond slaves share one), in NIC order. */
export function inventoryMacs(inv: Inventory): string[] {
  const seen = new Set<string>();
  for (const n of inv.nics) {
    const m = n.mac.toLowerCase();
    if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m) && !isNullMac(m)) seen.add(m);
  }
  return [...seen].slice(0, 256);
}

/** Stable hardware id: sha256 of the sorted MACs (survives NIC order changes, not NIC swaps). */
export function hwId(macs: string[]): string {
  return createHash('sha256')
    .update([...macs].sort().join(','))
    .digest('hex')
    .slice(0, 32);
}

/** Identity and credentials a register carries besides the hardware. */
export interface RegisterIdentity {
  token: string;
  nodeId?: number;
  /** What this agent is and the image it runs in (reported so the UI can find nodes discovered by an older image). */
  versions?: { agent?: string; microkernel?: string };
}

/** Build the register body and the facts hash the appliance will compute on it. */
export function buildRegisterRequest(
  inv: Inventory,
  id: RegisterIdentity,
  exclude: RegExp | null,
): { request: RegisterRequest; facts_hash: string } {
  const macs = inventoryMacs(inv);
  if (macs.length === 0)
    throw new Error(
      'no NIC with a usable MAC address was found; the appliance identifies nodes by MAC. Fix: check `ip link` and that the NIC driver is in the microkernel (see undriven_nics).',
    );
  const { facts, facts_hash } = wireFacts(inv, exclude);
  const request: RegisterRequest = {
    protocol: PROTOCOL_VERSION,
    hw_id: hwId(macs),
    macs,
    token: id.token,
    facts,
    inventory: inv,
  };
  if (id.nodeId !== undefined) request.node_id = id.nodeId;
  if (id.versions?.agent) request.agent_version = id.versions.agent;
  if (id.versions?.microkernel) request.microkernel_version = id.versions.microkernel;
  if (inv.system.uuid) request.uuid = inv.system.uuid.slice(0, 64);
  if (inv.system.serial) request.serial = inv.system.serial.slice(0, 256);
  return { request, facts_hash };
}
