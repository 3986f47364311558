/**
 * The check-in side of in-band enrolment: a node that may be enrolled is asked (`bmc_enrol: true` in the
 * answer); one that waits for approval says so on the node. Each change of state is one event, not one per
 * check-in, and is not durable (it is decided again at every check-in).
 */
import type { CheckinResponse } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import type { NodeDoc } from '../../store/docs.ts';
import { durably } from '../../core/durably.ts';
import { ccError } from '../../errors/cc-error.ts';
import { enrolmentEnabled, enrolmentStep } from './enrol-policy.ts';

/** Reasons shown on the node. */
const WAITING = 'approval_required is on: the BMC is enrolled in-band once the operator approves this node';
const ASKED = 'asked the agent to enrol the BMC over the local IPMI interface';

/**
 * POST /api/v1/nodes/ID/bmc/enrol: the operator asks for in-band enrolment of this node at its agent's next
 * check-in, whatever `bmc_enrol_inband` says and even when a BMC is set (its report then replaces that BMC, or
 * waits for the operator's accept like any other). Approval still comes first (docs/identity.md 3). Durable.
 */
export function requestEnrolment(ctx: CoreContext, id: number): Promise<NodeDoc> {
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
    const waits = ctx.settings.get().approval_required && !node.approved;
    const state = waits ? 'awaiting-approval' : 'requested';
    const reason = `the operator asked: ${waits ? WAITING : 'its agent enrols the BMC over the local IPMI interface at its next check-in'}`;
    const base = { address: null, username: null, password_enc: '', channel: null, user_id: null, mac: null };
    node.bmc_enrolment = { ...base, state, reason, at: ctx.now().toISOString(), requested_by: 'operator' };
    await ctx.repo.save(node);
    ctx.events.emit('bmc.enrolment', {
      node_id: id,
      mac: node.boot_mac,
      message: `In-band BMC enrolment: ${reason}`,
      data: { state, by: 'operator' },
    });
    return node;
  });
}

/** Decide for one check-in answer; returns the answer with `bmc_enrol` set when the agent is to enrol. */
export function withEnrolmentRequest(ctx: CoreContext, node: NodeDoc, answer: CheckinResponse): CheckinResponse {
  if (answer.command !== 'acknowledge') return answer;
  const s = ctx.settings.get();
  const step = enrolmentStep(node, enrolmentEnabled(s, ctx.config.dhcp), s.approval_required);
  const st = node.bmc_enrolment?.state;
  if (step === 'none') {
    // Turned off (setting, mode) before the agent reported: nothing is pending any more.
    if (st === 'requested' || st === 'awaiting-approval') {
      node.bmc_enrolment = null;
      ctx.repo.touch(node);
    }
    return answer;
  }
  const state = step === 'ask' ? 'requested' : 'awaiting-approval';
  if (st !== state) {
    const at = ctx.now().toISOString();
    const reason = step === 'ask' ? ASKED : WAITING;
    const by = node.bmc_enrolment?.requested_by;
    node.bmc_enrolment = {
      state,
      address: null,
      username: null,
      password_enc: '',
      channel: null,
      user_id: null,
      mac: null,
      reason,
      at,
      ...(by ? { requested_by: by } : {}),
    };
    ctx.repo.touch(node);
    ctx.events.emit('bmc.enrolment', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `In-band BMC enrolment: ${reason}`,
      data: { state },
    });
  }
  return step === 'ask' ? { ...answer, bmc_enrol: true } : answer;
}
