/**
 * Turning an in-band enrolment into the node's BMC: at once when the reported address is inside the allowed
 * subnets, or when the operator accepts it (with the address they enter when the BMC reported none). Then,
 * outside the lock, Redfish detection at that address and a first status read with the enrolled credentials.
 */
import type { CoreContext } from '../../core/context.ts';
import { durably } from '../../core/durably.ts';
import { ccError } from '../../errors/cc-error.ts';
import type { NodeDoc } from '../../store/docs.ts';
import type { BmcRecord } from '../bmc-record.ts';
import { bmcTimings } from '../bmc-timings.ts';
import { runBulkPower } from '../bulk-power.ts';
import { DEFAULT_BMC_PORT } from '../drivers.ts';
import { nodePowerJob, recordPower, type NodeDriverDeps } from '../node-driver.ts';
import type { BmcEnrolmentDoc } from '../node-bmc-fields.ts';
import { detectRedfish } from '../redfish/detect.ts';

/** The node's BMC record from an enrolment (the sealed password moves over as it is: same node, same record). */
export function enrolledRecord(e: BmcEnrolmentDoc, address: string): BmcRecord {
  return {
    driver: 'ipmi',
    address,
    port: DEFAULT_BMC_PORT.ipmi,
    username: e.username ?? '',
    password_enc: e.password_enc,
    system_path: null,
    tls: 'pin',
    tls_fingerprint: null,
    ipmi_cipher_suite: null,
  };
}

/** Set the node's BMC from its enrolment (call under the core lock; the caller saves and emits). */
export function applyEnrolment(node: NodeDoc, e: BmcEnrolmentDoc, address: string, reason: string, at: string): BmcRecord {
  node.bmc = enrolledRecord(e, address);
  node.bmc_enrolment = { ...e, state: 'enrolled', address, reason, at };
  node.power = null;
  node.bmc_redfish = null;
  return node.bmc;
}

/** POST /api/v1/nodes/ID/bmc/accept: the operator says the reported (or entered) address is this node's BMC. */
export async function acceptEnrolment(
  ctx: CoreContext,
  id: number,
  address: string | undefined,
  deps: NodeDriverDeps = {},
): Promise<NodeDoc> {
  const node = await durably(ctx, async () => {
    const n = ctx.repo.get(id);
    if (!n) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
    const e = n.bmc_enrolment;
    if (!e || (e.state !== 'no-address' && e.state !== 'outside-subnets') || !e.password_enc)
      throw ccError('CC_ERR_BMC_NOTHING_TO_ACCEPT', `node ${id}: ${e ? `enrolment is ${e.state}` : 'no in-band enrolment'}`);
    const addr = address ?? e.address;
    if (!addr) throw ccError('CC_ERR_BAD_REQUEST', `node ${id}: its BMC reported no LAN address; give the address it is reachable at`);
    applyEnrolment(n, e, addr, 'accepted by the operator', ctx.now().toISOString());
    await ctx.repo.save(n);
    ctx.events.emit('bmc.enrolment', {
      node_id: id,
      mac: n.boot_mac,
      message: `The operator accepted the in-band BMC at ${addr} (user ${e.username ?? '?'})`,
      data: { state: 'enrolled', address: addr, by: 'operator' },
    });
    return n;
  });
  afterEnrolment(ctx, id, deps);
  return node;
}

/** Detect Redfish and read the power state once (in the background: the caller has answered already). */
export function afterEnrolment(ctx: CoreContext, id: number, deps: NodeDriverDeps = {}): void {
  void (async () => {
    const node = ctx.repo.get(id);
    const rec = node?.bmc;
    if (!node || !rec) return;
    const s = ctx.settings.get();
    const [found, read] = await Promise.all([
      detectRedfish(rec.address, { timeoutMs: s.bmc_request_timeout_s * 1000 }),
      runBulkPower([nodePowerJob(ctx, node as NodeDoc & { bmc: BmcRecord }, bmcTimings(s), undefined, deps)], {
        action: 'status',
        concurrency: 1,
        staggerMs: 0,
      }),
    ]);
    if (ctx.repo.get(id)?.bmc !== rec) return; // replaced or removed meanwhile
    node.bmc_redfish = {
      detected: found.redfish,
      version: found.redfish ? found.version : null,
      reason: found.redfish ? null : found.reason,
      checked_at: ctx.now().toISOString(),
    };
    ctx.repo.touch(node);
    const r = read[0]!;
    if (r.ok && r.power) recordPower(ctx, id, r.power);
    ctx.events.emit(r.ok ? 'bmc.enrolment' : 'bmc.error', {
      node_id: id,
      mac: node.boot_mac,
      message: `${r.ok ? `The enrolled BMC at ${rec.address} answers with its new credentials (power ${r.power})` : `The enrolled BMC at ${rec.address} did not answer a status read: ${r.reason}`}; ${found.redfish ? `Redfish ${found.version} answers there too` : `no Redfish there (${found.reason})`}`,
      data: { state: 'enrolled', power: r.power ?? null, code: r.code ?? null, redfish: found.redfish },
    });
  })().catch((e: unknown) => ctx.log.warn({ err: e }, 'after-enrolment checks failed'));
}
