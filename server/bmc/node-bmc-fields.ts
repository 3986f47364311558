/**
 * Node record fields of the BMC integration (docs/bmc.md), declared beside the code that owns them. They
 * extend the stored NodeDoc (server/store/docs.ts) by declaration merging; records written before them
 * simply lack them (every one is optional).
 */
import type { BmcEnrolmentState, NodePower, RedfishDetection } from '../../contract/index.ts';
import type { BmcRecord } from './bmc-record.ts';

/** What the agent reported at in-band enrolment, kept until it is applied or replaced (the password sealed). */
export interface BmcEnrolmentDoc {
  state: BmcEnrolmentState;
  address: string | null;
  username: string | null;
  /** `ccs1:...` envelope bound to `node/<id>/bmc.password`, '' when no credentials were reported. */
  password_enc: string;
  channel: number | null;
  user_id: number | null;
  mac: string | null;
  reason: string | null;
  at: string;
  /** `operator`: asked on the node's page (POST /api/v1/nodes/ID/bmc/enrol), even with a BMC set and the setting off. */
  requested_by?: 'operator';
}

declare module '../store/docs.ts' {
  interface NodeDoc {
    /** The node's BMC (password sealed); null or absent when none is set. */
    bmc?: BmcRecord | null;
    /** Last power state its BMC reported. */
    power?: NodePower | null;
    /** In-band enrolment: requested, reported, applied or failed. */
    bmc_enrolment?: BmcEnrolmentDoc | null;
    /** Whether the enrolled BMC answers Redfish. */
    bmc_redfish?: RedfishDetection | null;
  }
}
