/**
 * In-band BMC enrolment (MAAS style, issue 14): over the local IPMI interface, create or reuse the `crashcart`
 * user on a free slot with a random password and administrator privilege, enable IPMI over LAN for it on the
 * LAN channel, and read the BMC's LAN address. The commands are the IPMI 2.0 ones ipmitool names: Get Channel
 * Info (22.24), Get/Set User Name (22.28/22.29), Set User Password (22.30), Set User Access (22.26), Set
 * Channel Access (22.22) and Get LAN Configuration Parameters (23.2). Runs the same over KCS (the microkernel)
 * or lanplus (tests against a real ipmi_sim): the runner decides.
 */
import { ENROLLED_BMC_USER } from '../../contract/bmc.ts';
import { parseLanPrint } from '../parse/ipmitool-kv.ts';
import { chooseUserSlot, isLanChannel, parseUserList } from '../parse/ipmitool-users.ts';
import { randomBmcPassword } from './password.ts';

/** Run one ipmitool command (arguments after the interface options); resolves with stdout, rejects with the reason. */
export type IpmiRunner = (args: readonly string[]) => Promise<string>;

/** Why enrolment could not be done, with what the operator can do about it. */
export class EnrolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrolError';
  }
}

/** What an enrolment did. */
export interface EnrolResult {
  address: string | null;
  ip_source: string;
  mac: string | null;
  channel: number;
  user_id: number;
  username: string;
  password: string;
  reused: boolean;
  /** Steps that failed without stopping enrolment (the appliance checks the credentials over LAN anyway). */
  warnings: string[];
}

/** Channels that may be LAN channels: 1-Bh are implementation-specific (IPMI 2.0 6.3); 0 is IPMB, Eh/Fh are not LAN. */
export const CANDIDATE_CHANNELS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;

/** The first LAN channel, or an EnrolError naming what was asked. */
export async function findLanChannel(run: IpmiRunner, channels: readonly number[] = CANDIDATE_CHANNELS): Promise<number> {
  for (const ch of channels) {
    // A channel that does not exist answers with an error: that is "not this one", not a failure.
    const info = await run(['channel', 'info', String(ch)]).catch(() => '');
    if (isLanChannel(info)) return ch;
  }
  throw new EnrolError(
    `no LAN channel among channels ${channels[0]}-${channels[channels.length - 1]} (the BMC has no network port for IPMI over LAN); set its BMC by hand`,
  );
}

/** Options (tests give a fixed password; the microkernel lets it be generated). */
export interface EnrolOptions {
  username?: string;
  password?: string;
  channels?: readonly number[];
}

/** Enrol the BMC; EnrolError when it cannot be done without touching another user. */
export async function enrolBmc(runTool: IpmiRunner, o: EnrolOptions = {}): Promise<EnrolResult> {
  const username = o.username ?? ENROLLED_BMC_USER;
  const password = o.password ?? randomBmcPassword();
  // No failure message may carry the new password, whatever a tool or BMC echoes.
  const run: IpmiRunner = (args) =>
    runTool(args).catch((e: unknown) => {
      throw new EnrolError((e instanceof Error ? e.message : String(e)).split(password).join('[redacted]'));
    });
  const channel = await findLanChannel(run, o.channels);
  const slots = parseUserList(await run(['-c', 'user', 'list', String(channel)]));
  if (slots.length === 0) throw new EnrolError(`the BMC listed no user slots on channel ${channel}; set its BMC by hand`);
  const slot = chooseUserSlot(slots, username);
  if (!slot)
    throw new EnrolError(`no free user slot on the BMC (${slots.length} slots, every one holds a user); free one or set the BMC by hand`);
  const id = String(slot.id);
  const ch = String(channel);
  if (!slot.reuse) await run(['user', 'set', 'name', id, username]);
  // 16-byte password form: both IPMI 1.5 and 2.0 BMCs store it (some mishandle the 20-byte form over RMCP+).
  await run(['user', 'set', 'password', id, password, '16']);
  await run(['channel', 'setaccess', ch, id, 'callin=on', 'ipmi=on', 'link=on', 'privilege=4']);
  await run(['user', 'enable', id]);
  const warnings: string[] = [];
  // Channel access "always available": IPMI over LAN on. Some BMCs refuse to change it while it is on already.
  await run(['lan', 'set', ch, 'access', 'on']).catch((e: Error) => warnings.push(`lan set ${ch} access on: ${e.message}`));
  // Read back: the slot must now be ours, with IPMI messaging and administrator privilege.
  const mine = parseUserList(await run(['-c', 'user', 'list', ch])).find((s) => s.id === slot.id);
  if (!mine || mine.name !== username || !mine.ipmi || !/^admin/i.test(mine.privilege))
    throw new EnrolError(
      `user slot ${id} reads back as ${mine ? `"${mine.name}" ipmi=${mine.ipmi} ${mine.privilege}` : 'missing'} after enrolment; the BMC did not keep the settings: set its BMC by hand`,
    );
  const lan = parseLanPrint(await run(['lan', 'print', ch]));
  return {
    address: lan.ip,
    ip_source: lan.ip_source,
    mac: lan.mac,
    channel,
    user_id: slot.id,
    username,
    password,
    reused: slot.reuse,
    warnings,
  };
}
