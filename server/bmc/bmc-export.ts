/**
 * BMC fields in the node export: left out unless the operator asks for secrets (issue 14: secrets are excluded
 * from exports unless asked for). Asked, the BMC comes with its password opened, for the next tool (Ironic, an
 * inventory); the export itself is an event, so the audit trail shows who took the passwords out.
 */
import type { Node } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcTarget, bmcView } from './bmc-record.ts';
import './node-bmc-fields.ts';

/** A node view without its BMC fields (what every export carries by default). */
export function withoutBmc(v: Node): Omit<Node, 'bmc' | 'bmc_enrolment'> {
  const { bmc: _bmc, bmc_enrolment: _enrolment, ...rest } = v;
  return rest;
}

/**
 * The BMC with its password in clear, for an export with secrets; null when none is set. A password that no
 * longer opens (key file replaced) is exported as null rather than failing the whole export.
 */
export function bmcWithSecret(ctx: CoreContext, d: NodeDoc): (ReturnType<typeof bmcView> & { password: string | null }) | null {
  if (!d.bmc) return null;
  let password: string | null = null;
  try {
    password = bmcTarget(d.id, d.bmc, ctx.secrets).password;
  } catch {
    // CC_ERR_SECRET_UNREADABLE: the node's page says to enter it again.
  }
  return { ...bmcView(d.bmc), password };
}

/** Record that secrets left the appliance in an export. */
export function secretsExported(ctx: CoreContext, what: string, count: number): void {
  ctx.events.emit('admin.secrets_exported', {
    message: `${what} exported with ${count} BMC password(s) in clear`,
    data: { what, count },
  });
}

/**
 * The JSON export's nodes as the operator asked for them: without BMC fields, or (`withSecrets`) with each
 * node's BMC and its password, recorded as an event.
 */
export function bmcExportNodes<T extends Node>(
  ctx: CoreContext,
  nodes: readonly T[],
  withSecrets: boolean,
): Omit<T, 'bmc' | 'bmc_enrolment'>[] {
  const out = nodes.map((n) => {
    const rest = withoutBmc(n) as Omit<T, 'bmc' | 'bmc_enrolment'>;
    if (!withSecrets) return rest;
    const d = ctx.repo.get(n.id);
    return { ...rest, bmc: d ? bmcWithSecret(ctx, d) : null };
  });
  if (withSecrets) secretsExported(ctx, 'nodes.json', out.filter((n) => 'bmc' in n && n.bmc).length);
  return out;
}
