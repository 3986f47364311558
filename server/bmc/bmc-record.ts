/**
 * A node's BMC as stored: the password sealed for that node (secrets at rest,
 * bound to the node id so it cannot be copied onto another node), and the two
 * views of it: the API's (no password, only whether one is set) and the
 * driver's (password opened just before use, never kept).
 */
import type { BmcInput, BmcView } from '../../contract/index.ts';
import { secretRecord, type SecretBox } from '../secrets/secret-box.ts';
import { DEFAULT_BMC_PORT } from './drivers.ts';
import type { BmcTarget } from './driver.ts';

/** The `bmc` field of a stored node. */
export interface BmcRecord {
  driver: BmcInput['driver'];
  address: string;
  port: number;
  username: string;
  /** `ccs1:...` envelope (server/secrets/envelope.ts), bound to `node/<id>/bmc.password`. */
  password_enc: string;
  system_path: string | null;
  tls: NonNullable<BmcInput['tls']>;
  tls_fingerprint: string | null;
  ipmi_cipher_suite: number | null;
}

/** The secret record a node's BMC password is bound to. */
export const bmcPasswordRecord = (nodeId: number): string => secretRecord('node', nodeId, 'bmc.password');

/**
 * The record for a validated PUT body. Every PUT clears the pinned certificate: the operator saying "this is
 * the BMC" is the trust decision, and the next contact pins what it presents (the fix for CC_ERR_BMC_TLS_CHANGED).
 */
export function bmcRecordFromInput(nodeId: number, input: BmcInput & { password: string }, box: SecretBox): BmcRecord {
  return {
    driver: input.driver,
    address: input.address,
    port: input.port ?? DEFAULT_BMC_PORT[input.driver],
    username: input.username,
    password_enc: box.seal(input.password, bmcPasswordRecord(nodeId)),
    system_path: input.driver === 'redfish' ? (input.system_path ?? null) : null,
    tls: input.tls ?? 'pin',
    tls_fingerprint: null,
    ipmi_cipher_suite: input.driver === 'ipmi' ? (input.ipmi_cipher_suite ?? null) : null,
  };
}

/** What GET /api/v1/nodes/ID shows: never the password. */
export function bmcView(r: BmcRecord): BmcView {
  return {
    driver: r.driver,
    address: r.address,
    port: r.port,
    username: r.username,
    password_set: r.password_enc !== '',
    system_path: r.system_path,
    tls: r.tls,
    tls_fingerprint: r.tls_fingerprint,
    ipmi_cipher_suite: r.ipmi_cipher_suite,
  };
}

/** The driver's view, opening the password (CC_ERR_SECRET_UNREADABLE if it was sealed for another node or key). */
export function bmcTarget(nodeId: number, r: BmcRecord, box: SecretBox): BmcTarget {
  return {
    driver: r.driver,
    address: r.address,
    port: r.port,
    username: r.username,
    password: box.open(r.password_enc, bmcPasswordRecord(nodeId)),
    system_path: r.system_path,
    tls: r.tls,
    tls_fingerprint: r.tls_fingerprint,
    ipmi_cipher_suite: r.ipmi_cipher_suite,
  };
}
