/** Random BMC passwords for in-band enrolment. */
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 16 characters from 62 (about 95 bits): the longest every IPMI BMC stores (IPMI 1.5 passwords are 16 bytes;
 * 2.0 allows 20, which some BMCs and ipmi_sim mishandle over RMCP+), letters and digits only so no shell,
 * URL or config quoting can ever be involved.
 */
export function randomBmcPassword(length = 16): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}
