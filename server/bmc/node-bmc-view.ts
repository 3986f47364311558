/** The BMC fields of a node as the API shows them: never a password, only whether one is set. */
import type { Node } from '../../contract/index.ts';
import type { NodeDoc } from '../store/docs.ts';
import { bmcView } from './bmc-record.ts';
import './node-bmc-fields.ts';

/** `bmc`, `power`, `bmc_enrolment` and `bmc_redfish` of the node view. */
export function bmcNodeFields(d: NodeDoc): Pick<Node, 'bmc' | 'power' | 'bmc_enrolment' | 'bmc_redfish'> {
  const e = d.bmc_enrolment ?? null;
  return {
    bmc: d.bmc ? bmcView(d.bmc) : null,
    power: d.power ?? null,
    bmc_enrolment: e ? { state: e.state, address: e.address, username: e.username, reason: e.reason, at: e.at } : null,
    bmc_redfish: d.bmc_redfish ?? null,
  };
}
