/**
 * A node's static address (issue 15): `ip_reserved` on the record is what its OS is configured with, and in
 * full-DHCP mode the boot MAC holds a DHCP reservation of the same address (server/dhcp/reservations.ts
 * checks it: served subnet, not the appliance, not another MAC's). Call under the core lock.
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { poolsFor } from '../dhcp/pools.ts';
import { ccError } from '../errors/cc-error.ts';
import { osNetworkFor, type OsNetwork } from './os-network.ts';
import { HOSTNAME_PATTERN } from '../../contract/index.ts';
import './operator-fields.ts';

const HOSTNAME = new RegExp(HOSTNAME_PATTERN);

/** The address a node's OS gets: its own `ip_reserved`, else the DHCP reservation one of its MACs holds. */
export function reservedIpOf(ctx: CoreContext, node: NodeDoc): string | null {
  if (node.ip_reserved) return node.ip_reserved;
  for (const m of [node.boot_mac, ...node.macs]) {
    const r = m ? ctx.reservations.reservationFor(m) : null;
    if (r) return r.ip;
  }
  return null;
}

/** What a task template sees as `network` for this node: its static address and the subnet around it. */
export function taskNetwork(ctx: CoreContext, node: NodeDoc): OsNetwork | null {
  return osNetworkFor(ctx.config, reservedIpOf(ctx, node));
}

/** Refuse an address another record already has as its static address. */
export function checkIpFree(ctx: CoreContext, node: NodeDoc, ip: string): void {
  const other = ctx.repo.all().find((d) => d.id !== node.id && d.ip_reserved === ip);
  if (other) throw ccError('CC_ERR_RESERVATION_CONFLICT', `${ip} is the static address of node ${other.id}`);
}

/**
 * Set (or, with null, remove) the node's static address and its DHCP reservation. `mac` must be one of the
 * node's MACs (default: the boot MAC). Returns a note when no reservation could be made (no MAC yet, or DHCP
 * is not in full mode): the address is still kept for the OS. Throws, changing nothing, when the
 * reservation service refuses (outside the served subnets, another MAC's address).
 */
export async function setStaticIp(ctx: CoreContext, node: NodeDoc, ip: string | null, mac?: string): Promise<string | null> {
  const mine = [node.boot_mac, ...node.macs].filter((m): m is string => m !== null);
  if (mac !== undefined && !node.macs.includes(mac)) throw ccError('CC_ERR_BAD_REQUEST', `${mac} is not a MAC of node ${node.id}`);
  const target = mac ?? mine[0] ?? null;
  const held = [...new Set(mine)].filter((m) => ctx.reservations.reservationFor(m) !== null);
  if (ip === null) {
    for (const m of held) await ctx.reservations.setReservation(m, null);
    node.ip_reserved = null;
    return null;
  }
  checkIpFree(ctx, node, ip);
  let note: string | null = null;
  if (poolsFor(ctx.config).length === 0) note = 'DHCP is not in full mode here: no DHCP reservation; the OS is configured with the address';
  else if (!target) note = 'no MAC known yet: the DHCP reservation is made when the machine appears';
  else {
    // Another MAC of the node holding this address (its manifest row's, when the operator accepted a machine that
    // booted from another NIC) gives it up first: the reservation service refuses an address another MAC holds.
    const moving = held.filter((m) => m !== target && ctx.reservations.reservationFor(m)?.ip === ip);
    const before = moving.map((m) => ctx.reservations.reservationFor(m)!);
    for (const m of moving) await ctx.reservations.setReservation(m, null);
    try {
      await ctx.reservations.setReservation(target, ip, node.hostname && HOSTNAME.test(node.hostname) ? node.hostname : null);
    } catch (e) {
      for (const r of before) await ctx.reservations.setReservation(r.mac, r.ip, r.hostname);
      throw e;
    }
    for (const m of held) if (m !== target && !moving.includes(m)) await ctx.reservations.setReservation(m, null);
  }
  node.ip_reserved = ip;
  return note;
}
