/**
 * "Does this source address belong to that node?" (docs/identity.md 2): in full-DHCP mode an enrolment or
 * install token is accepted only from an address leased or reserved to one of the node's MACs. In proxy
 * mode the appliance hands out no addresses, so it cannot tell (docs/security.md says what that leaves open).
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';

/** Source address as the socket reports it, IPv4-mapped IPv6 unwrapped (`::ffff:10.0.0.5` -> `10.0.0.5`). */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** True when the appliance knows every address on the link (full DHCP), so the check below means something. */
export function addressesAreKnown(ctx: CoreContext): boolean {
  return ctx.config.dhcp === 'full';
}

/**
 * True when `ip` is leased (a live binding in the lease store) or reserved to one of `node`'s MACs, or
 * to one of `alsoMacs`. Outside full-DHCP mode every address passes (nothing to check against).
 */
export async function addressBelongsToNode(
  ctx: CoreContext,
  node: NodeDoc,
  ip: string,
  alsoMacs: readonly string[] = [],
): Promise<boolean> {
  if (!addressesAreKnown(ctx)) return true;
  const want = plainIp(ip);
  const now = ctx.now().getTime();
  for (const mac of new Set([...node.macs, ...alsoMacs])) {
    // A reservation covers an installed OS calling back from its static address.
    if (ctx.reservations.reservationFor(mac)?.ip === want) return true;
    const lease = await ctx.store.leases.findOne({ _id: mac });
    if (lease && lease.ip === want && lease.state === 'bound' && lease.expires_at > now) return true;
  }
  return false;
}
