/** What the agent reports after an enrolment attempt: the credentials it set, or why it could not. */
import type { BmcEnrolledReport, BmcFailedReport } from '../../contract/bmc-enrol.ts';
import { EnrolError, enrolBmc, type EnrolOptions } from './enrol-bmc.ts';
import { inbandRunner, ipmiDevice } from './ipmitool-inband.ts';

/** A report without the agent's credentials (the loop adds them). */
export type BmcEnrolOutcome = Omit<BmcEnrolledReport, 'node_id' | 'agent_token'> | Omit<BmcFailedReport, 'node_id' | 'agent_token'>;

/** Run `enrol` and turn an EnrolError (or anything else) into a `failed` outcome. */
export async function enrolOutcome(enrol: () => Promise<Awaited<ReturnType<typeof enrolBmc>>>): Promise<BmcEnrolOutcome> {
  try {
    const r = await enrol();
    return {
      outcome: 'enrolled',
      address: r.address,
      ip_source: r.ip_source.slice(0, 64),
      mac: r.mac,
      channel: r.channel,
      user_id: r.user_id,
      username: r.username,
      password: r.password,
      reused: r.reused,
      ...(r.warnings.length ? { warnings: r.warnings.map((w) => w.slice(0, 512)).slice(0, 16) } : {}),
    };
  } catch (e) {
    const why = e instanceof EnrolError ? e.message : `unexpected: ${e instanceof Error ? e.message : String(e)}`;
    return { outcome: 'failed', reason: why.slice(0, 1024) };
  }
}

/** The microkernel's enroller: the local IPMI device must exist, then ipmitool -I open does the rest. */
export function inbandEnroller(o: EnrolOptions = {}): () => Promise<BmcEnrolOutcome> {
  return () =>
    enrolOutcome(async () => {
      await ipmiDevice();
      return enrolBmc(inbandRunner(), o);
    });
}
