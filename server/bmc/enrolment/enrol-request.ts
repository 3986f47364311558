/**
 * The check-in side of in-band enrolment: a node that may be enrolled is asked (`bmc_enrol: true` in the
 * answer); one that waits for approval says so on the node. Each change of state is one event, not one per
 * check-in, and is not durable (it is decided again at every check-in).
 */
import type { CheckinResponse } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import type { NodeDoc } from '../../store/docs.ts';
import { enrolmentEnabled, enrolmentStep } from './enrol-policy.ts';

/** Reasons shown on the node. */
const WAITING = 'approval_required is on: the BMC is enrolled in-band once the operator approves this node';
const ASKED = 'asked the agent to enrol the BMC over the local IPMI interface';

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
    node.bmc_enrolment = { state, address: null, username: null, password_enc: '', channel: null, user_id: null, mac: null, reason, at };
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
