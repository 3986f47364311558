/**
 * POST /api/v1/bmc-enrol on the node plane: what a running agent reports after enrolling its BMC in-band,
 * authenticated by its agent token (docs/identity.md 2). Accepted only while the appliance asked this node
 * (the setting, approval); the password is sealed for the node at once; an address outside the allowed
 * subnets, or none, waits for the operator: a forged agent must not make the appliance send credentials
 * anywhere it names.
 */
import type { BmcEnrolAnswer, BmcEnrolReport } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { durably } from '../../core/durably.ts';
import { ccError } from '../../errors/cc-error.ts';
import { hashToken } from '../../nodes/token-digest.ts';
import { sameHash } from '../../nodes/tokens.ts';
import { bmcPasswordRecord } from '../bmc-record.ts';
import type { NodeDriverDeps } from '../node-driver.ts';
import type { BmcEnrolmentDoc } from '../node-bmc-fields.ts';
import { addressAllowed, allowedSubnets, describeSubnets, enrolmentEnabled, enrolmentStep } from './enrol-policy.ts';
import { afterEnrolment, applyEnrolment } from './enrol-apply.ts';

/** Handle one report; the answer says where enrolment of the node stands. */
export async function bmcEnrolReport(
  ctx: CoreContext,
  req: BmcEnrolReport,
  ip: string,
  deps: NodeDriverDeps = {},
): Promise<BmcEnrolAnswer> {
  let apply = false;
  const answer = await durably(ctx, async (): Promise<BmcEnrolAnswer> => {
    const node = ctx.repo.get(req.node_id);
    if (!node || !sameHash(node.agent_token_hash, hashToken(req.agent_token)))
      throw ccError('CC_ERR_FORBIDDEN', `agent token does not match node ${req.node_id}; reboot the node to enrol again`);
    const s = ctx.settings.get();
    const step = enrolmentStep(node, enrolmentEnabled(s, ctx.config.dhcp), s.approval_required);
    if (step !== 'ask' || node.bmc_enrolment?.state !== 'requested') {
      ctx.guard.nodeEvent(node.id, 'bmc.enrolment', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Refused a BMC enrolment report from ${ip}: the appliance did not ask this node to enrol`,
        data: { state: node.bmc_enrolment?.state ?? null, refused: true, ip },
      });
      throw ccError('CC_ERR_BMC_ENROL_NOT_REQUESTED', `node ${node.id}`);
    }
    const at = ctx.now().toISOString();
    const base = { channel: null, user_id: null, mac: null, address: null, username: null, password_enc: '', at };
    let e: BmcEnrolmentDoc;
    let message: string;
    if (req.outcome === 'failed') {
      e = { ...base, state: 'failed', reason: req.reason };
      message = `The agent could not enrol the BMC in-band: ${req.reason}`;
    } else {
      const sealed = {
        ...base,
        address: req.address,
        username: req.username,
        password_enc: ctx.secrets.seal(req.password, bmcPasswordRecord(node.id)),
        channel: req.channel,
        user_id: req.user_id,
        mac: req.mac ?? null,
      };
      const subnets = allowedSubnets(s, ctx.config);
      const warned = req.warnings?.length ? `; warnings: ${req.warnings.join('; ')}` : '';
      const who = `user ${req.username} (slot ${req.user_id}${req.reused ? ', reused' : ''}) on LAN channel ${req.channel}${warned}`;
      if (req.address === null) {
        e = { ...sealed, state: 'no-address', reason: 'the BMC reports no LAN address: enter the address it is reachable at and accept' };
        message = `BMC enrolled in-band (${who}) but it reports no LAN address: enter one on the node's page`;
      } else if (!addressAllowed(req.address, subnets)) {
        e = {
          ...sealed,
          state: 'outside-subnets',
          reason: `the reported BMC address ${req.address} is outside bmc_allowed_subnets (${describeSubnets(subnets)}): accept it if it is this node's BMC`,
        };
        message = `BMC enrolled in-band (${who}) at ${req.address}, outside the allowed subnets (${describeSubnets(subnets)}): waits for the operator`;
      } else {
        e = { ...sealed, state: 'enrolled', reason: null };
        applyEnrolment(node, e, req.address, `enrolled in-band (${who})`, at);
        e = node.bmc_enrolment!;
        apply = true;
        message = `BMC enrolled in-band at ${req.address} (${who})`;
      }
    }
    node.bmc_enrolment = e;
    await ctx.repo.save(node);
    ctx.events.emit('bmc.enrolment', {
      node_id: node.id,
      mac: node.boot_mac,
      message,
      data: { state: e.state, address: e.address, username: e.username, channel: e.channel, user_id: e.user_id },
    });
    return { state: e.state };
  });
  if (apply) afterEnrolment(ctx, req.node_id, deps);
  return answer;
}
