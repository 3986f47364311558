/**
 * The operator sets or removes a node's BMC (PUT / DELETE /api/v1/nodes/ID/bmc). Durable: the answer leaves
 * after the record is on disk. The password is sealed for that node before it is stored, and never returned.
 */
import type { BmcInput } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import { ccError } from '../errors/cc-error.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcRecordFromInput } from './bmc-record.ts';
import './node-bmc-fields.ts';

/** Set (or replace) a node's BMC; a pending in-band enrolment is superseded by the operator's entry. */
export function setNodeBmc(ctx: CoreContext, id: number, input: BmcInput): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
    const before = node.bmc ?? null;
    // A write-only field left out keeps what is stored (an edit of the address needs no retyped password).
    const kept = input.password === undefined ? (before?.password_enc ?? null) : null;
    if (input.password === undefined && kept === null)
      throw ccError('CC_ERR_BAD_REQUEST', `node ${id} has no BMC password yet: give password`);
    const fresh = bmcRecordFromInput(id, { ...input, password: input.password ?? '' }, ctx.secrets);
    node.bmc = kept === null ? fresh : { ...fresh, password_enc: kept };
    if (node.bmc_enrolment && node.bmc_enrolment.state !== 'enrolled') node.bmc_enrolment = null;
    if (before?.address !== node.bmc.address) node.bmc_redfish = null;
    node.power = null;
    await ctx.repo.save(node);
    const b = node.bmc;
    ctx.events.emit('bmc.configured', {
      node_id: id,
      mac: node.boot_mac,
      message: `BMC set by the operator: ${b.driver} ${b.address}:${b.port} as ${b.username}${b.driver === 'redfish' ? ` (TLS ${b.tls})` : ''}`,
      data: { driver: b.driver, address: b.address, port: b.port, username: b.username, tls: b.tls, by: 'operator' },
    });
    return node;
  });
}

/** Remove a node's BMC; in-band enrolment may then be requested again (the operator's retry). */
export function clearNodeBmc(ctx: CoreContext, id: number): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
    const had = node.bmc ?? null;
    node.bmc = null;
    node.power = null;
    node.bmc_enrolment = null;
    node.bmc_redfish = null;
    await ctx.repo.save(node);
    ctx.events.emit('bmc.removed', {
      node_id: id,
      mac: node.boot_mac,
      message: had ? `BMC ${had.address}:${had.port} removed by the operator` : 'BMC removed (none was set)',
      data: { address: had?.address ?? null },
    });
    return node;
  });
}
