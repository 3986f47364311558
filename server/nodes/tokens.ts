/**
 * Node credentials (docs/identity.md 2): enrolment tokens minted by /boot for one node's microkernel
 * boot, install tokens minted when /boot renders that node's task. Both are stored as sha256, expire,
 * and in full-DHCP mode are accepted only from an address of the node they name.
 */
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { hashToken, newToken } from './token-digest.ts';
import { addressBelongsToNode, plainIp } from './node-address.ts';
import { ccError } from '../errors/cc-error.ts';

const later = (ctx: CoreContext, s: number) => new Date(ctx.now().getTime() + s * 1000).toISOString();
const expired = (ctx: CoreContext, iso: string | null | undefined) => !iso || Date.parse(iso) <= ctx.now().getTime();

/**
 * The stored digest equals the digest of what was presented. A plain comparison is enough: it runs on
 * sha256 digests, and how many leading digits of sha256(guess) match says nothing about the token.
 */
export function sameHash(stored: string | null | undefined, presented: string): boolean {
  return Boolean(stored) && stored === presented;
}

/**
 * A fresh enrolment token for `node`'s microkernel boot (replacing any earlier one). `verified`: it went
 * to an address leased to this node, so the NICs the microkernel brings up may register from theirs.
 */
export function mintEnrolment(ctx: CoreContext, node: NodeDoc, verified: boolean): string {
  const token = newToken();
  node.enrol_token_hash = hashToken(token);
  node.enrol_token_expires_at = later(ctx, ctx.settings.get().enrol_token_ttl_s);
  node.enrol_token_verified = verified;
  return token;
}

/** The enrolment token is spent (by a registration) or withdrawn. */
export function clearEnrolment(node: NodeDoc): void {
  node.enrol_token_hash = null;
  node.enrol_token_expires_at = null;
  node.enrol_token_verified = false;
}

/** True when `token` is `node`'s current enrolment token and has not expired. */
export function isLiveEnrolment(ctx: CoreContext, node: NodeDoc, token: string): boolean {
  return sameHash(node.enrol_token_hash, hashToken(token)) && !expired(ctx, node.enrol_token_expires_at);
}

/** A fresh install token for the install /boot is about to render (replacing any earlier one). */
export function mintInstall(ctx: CoreContext, node: NodeDoc): string {
  const token = newToken();
  node.install_token_hash = hashToken(token);
  node.install_token_expires_at = later(ctx, ctx.settings.get().install_token_ttl_s);
  return token;
}

/** The install is over (installed, error, unbind, reinstall, a new binding): its token stops working. */
export function clearInstall(node: NodeDoc): void {
  node.install_token_hash = null;
  node.install_token_expires_at = null;
  delete node.install_token;
}

/**
 * Throw 403 unless `token` is `node`'s live install token presented from one of its addresses. Each
 * refusal says why, so an operator reading the event knows whether to reinstall or to look for an intruder.
 */
export async function checkInstallToken(
  ctx: CoreContext,
  node: NodeDoc | undefined,
  id: number,
  token: string,
  ip: string,
): Promise<NodeDoc> {
  if (!node || !sameHash(node.install_token_hash, hashToken(token)))
    throw ccError('CC_ERR_FORBIDDEN', `install token does not match node ${id}; the node must boot its task script again`);
  if (expired(ctx, node.install_token_expires_at))
    throw refused(ctx, node, ip, 'install token expired (install_token_ttl_s); reinstall the node to start a new install');
  if (!(await addressBelongsToNode(ctx, node, ip)))
    throw refused(ctx, node, ip, `install token presented from ${plainIp(ip)}, which is not leased or reserved to node ${id}`);
  return node;
}

/** A refusal worth an event (a valid token used from the wrong place or too late), as an error to throw. */
export function refused(ctx: CoreContext, node: NodeDoc, ip: string, why: string): Error {
  ctx.guard.sourceEvent(plainIp(ip), 'node.token_refused', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Refused: ${why}`,
    data: { ip: plainIp(ip), reason: why },
  });
  return ccError('CC_ERR_FORBIDDEN', why);
}
