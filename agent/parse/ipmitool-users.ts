/**
 * Pure parsers for in-band BMC enrolment: which channel is the LAN one (`channel info N`) and which user
 * slots hold users (`ipmitool -c user list N`), and the choice of the slot Crashcart may use.
 */
import { colonPairs, lines } from './kv-text.ts';

/** The medium of a channel (`Channel Medium Type : 802.3 LAN`), or null when the output has none. */
export function channelMedium(stdout: string): string | null {
  return colonPairs(stdout).get('Channel Medium Type') ?? null;
}

/** True when `channel info` describes a LAN channel (IPMI 2.0 table 6-3, medium type 04h "802.3 LAN"). */
export function isLanChannel(stdout: string): boolean {
  return /^802\.3 LAN\b/i.test(channelMedium(stdout) ?? '');
}

/** One user slot as `ipmitool -c user list` prints it: `id,name,callin,link auth,ipmi msg,privilege`. */
export interface UserSlot {
  id: number;
  name: string;
  callin: boolean;
  link: boolean;
  ipmi: boolean;
  privilege: string;
}

/** Parse the CSV user list; lines that are not slots are skipped. A name may hold commas: the five other fields are fixed. */
export function parseUserList(stdout: string): UserSlot[] {
  const out: UserSlot[] = [];
  for (const line of lines(stdout)) {
    const f = line.trim().split(',');
    if (f.length < 6 || !/^\d{1,2}$/.test(f[0]!)) continue;
    const tail = f.slice(-4);
    out.push({
      id: Number(f[0]),
      name: f.slice(1, -4).join(','),
      callin: tail[0] === 'true',
      link: tail[1] === 'true',
      ipmi: tail[2] === 'true',
      privilege: tail[3]!,
    });
    if (out.length >= 64) break; // IPMI has at most 63 user IDs (22.26)
  }
  return out;
}

/** A privilege that grants nothing: `NO ACCESS` (0Fh), or the reserved 0 ipmi_sim shows for empty slots. */
const NO_PRIVILEGE = /^(no access|unknown \(0x0?0\))/i;

/**
 * The slot to use for `username`: a slot already named so (reuse: its password is replaced), else the first
 * free one. Free is strict: never slot 1 (the anonymous user, IPMI 2.0 22.26), no name, IPMI messaging and
 * link authentication off, no privilege. A slot that holds another user is never taken.
 */
export function chooseUserSlot(slots: readonly UserSlot[], username: string): { id: number; reuse: boolean } | null {
  const mine = slots.find((s) => s.id >= 2 && s.name === username);
  if (mine) return { id: mine.id, reuse: true };
  const free = slots.find((s) => s.id >= 2 && s.name === '' && !s.ipmi && !s.link && NO_PRIVILEGE.test(s.privilege));
  return free ? { id: free.id, reuse: false } : null;
}
