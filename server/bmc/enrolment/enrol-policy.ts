/**
 * Pure decisions of in-band BMC enrolment (docs/identity.md 3, docs/bmc.md "In-band enrolment"): whether it is
 * on, whether this node may be asked, and whether a BMC address a node reported may receive credentials.
 */
import type { Config } from '../../config/schema.ts';
import type { Settings } from '../../settings/settings-service.ts';
import { inSubnet, ipToInt } from '../../net/ipv4.ts';
import type { NodeDoc } from '../../store/docs.ts';
import '../node-bmc-fields.ts';

/** One IPv4 subnet. */
export interface Subnet {
  subnet: string;
  prefix: number;
}

/**
 * On or off for this appliance. `auto`: on in full-DHCP mode, where the operator owns the rack; off in proxy
 * mode, where machines that merely PXE-boot beside production DHCP must not get new BMC users (issue 14).
 */
export function enrolmentEnabled(s: Pick<Settings, 'bmc_enrol_inband'>, dhcp: Config['dhcp']): boolean {
  return s.bmc_enrol_inband === 'on' || (s.bmc_enrol_inband === 'auto' && dhcp === 'full');
}

/** `a.b.c.d/n` -> a subnet, or null. */
export function parseCidr(cidr: string): Subnet | null {
  const [ip, p] = cidr.split('/');
  const prefix = Number(p);
  if (ip === undefined || ipToInt(ip) === null || !/^\d{1,2}$/.test(p ?? '') || prefix > 32) return null;
  return { subnet: ip, prefix };
}

/** The subnets a reported BMC address may be in: the setting, or (null) the rack subnets Crashcart serves. */
export function allowedSubnets(s: Pick<Settings, 'bmc_allowed_subnets'>, config: Pick<Config, 'address' | 'pools'>): Subnet[] {
  if (s.bmc_allowed_subnets !== null) return s.bmc_allowed_subnets.map(parseCidr).filter((x): x is Subnet => x !== null);
  const served: Subnet[] = config.address ? [{ subnet: config.address.ip, prefix: config.address.prefix }] : [];
  return [...served, ...config.pools.map((p) => ({ subnet: p.subnet, prefix: p.prefix }))];
}

/** True when `ip` is inside one of `subnets` (a forged agent must not make the appliance send credentials elsewhere). */
export function addressAllowed(ip: string, subnets: readonly Subnet[]): boolean {
  const n = ipToInt(ip);
  return n !== null && subnets.some((s) => inSubnet(n, s.subnet, s.prefix));
}

/** What a check-in does about enrolment: nothing, record that it waits for approval, or ask the agent. */
export type EnrolmentStep = 'none' | 'await-approval' | 'ask';

/**
 * The step for one node: only nodes without a BMC whose enrolment has not been reported yet, or a node the
 * operator asked for (the setting and a BMC already set do not matter then: MAAS-style, the operator wants
 * Crashcart's own user instead of the one typed in); an unapproved node while approval is required is never
 * asked (docs/identity.md 3).
 */
export function enrolmentStep(node: NodeDoc, enabled: boolean, approvalRequired: boolean): EnrolmentStep {
  const st = node.bmc_enrolment?.state;
  const byOperator = node.bmc_enrolment?.requested_by === 'operator' && (st === 'requested' || st === 'awaiting-approval');
  if (!byOperator && (!enabled || node.bmc)) return 'none';
  if (st && st !== 'requested' && st !== 'awaiting-approval') return 'none';
  if (approvalRequired && !node.approved) return 'await-approval';
  return 'ask';
}

/** A short description of subnets for messages (`10.0.0.0/24, 10.1.0.0/16` or `none`). */
export function describeSubnets(subnets: readonly Subnet[]): string {
  return subnets.length ? subnets.map((s) => `${s.subnet}/${s.prefix}`).join(', ') : 'none';
}
