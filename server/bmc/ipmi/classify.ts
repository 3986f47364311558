/**
 * Turn a failed ipmitool run into one catalog error. ipmitool exits 1 for
 * everything and says what happened only on stderr, in words that differ by
 * stage: RAKP messages (IPMI 2.0 13.20-13.31) mean the BMC answered and
 * refused the user or password; a failed Get Channel Authentication
 * Capabilities (13.14, the first packet of a session) means nothing answered.
 * It runs with `-v`, which is what makes the RAKP reasons visible.
 */
import { ccError, type CcError } from '../../errors/cc-error.ts';

const AUTH = [
  /RAKP \d+ HMAC is invalid/i,
  /RAKP \d+ message indicates an error\s*:\s*(unauthorized|invalid|inactive|illegal|unsupported)/i,
  /RAKP \d+ message has invalid integrity check value/i,
  /Activate Session error/i,
  /failed: Insufficient privilege level/i,
  /Unable to authenticate/i,
];
const CIPHER = [/invalid authentication algorithm/i, /invalid (integrity|confidentiality) algorithm/i, /no matching cipher suite/i];
const UNREACHABLE = [
  /Get Auth Capabilities error/i,
  /Error issuing Get Channel Authentication Capabilities/i,
  /No response from remote controller/i,
  /Address lookup for .* failed/i,
  /Insufficient resources for session/i,
];
// "Set Chassis Power Control to Up/On failed: Invalid command", "Set Chassis Boot Parameter 5 failed: ..."
const COMMAND_FAILED = /^(.*\bfailed\b\s*:.*)$/im;

/** The stderr lines worth quoting: ipmitool's chatter under `-v` is dropped. */
export function stderrSummary(stderr: string): string {
  const noise =
    /^(Loading IANA PEN Registry|Running Get VSO Capabilities|Invalid completion code received|Discovered IPMB address|Get HPM\.x Capabilities|Unable to Get Channel Cipher Suites|>\s*$)/i;
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !noise.test(l))
    .slice(-3)
    .join('; ')
    .slice(0, 400);
}

/** Classify a non-zero ipmitool exit by its stderr (`where` names the BMC, for the message). */
export function classifyIpmitoolFailure(stderr: string, where: string): CcError {
  const said = stderrSummary(stderr);
  if (AUTH.some((r) => r.test(stderr))) return ccError('CC_ERR_BMC_AUTH', `${where}: ${said}`);
  if (CIPHER.some((r) => r.test(stderr)))
    return ccError(
      'CC_ERR_BMC_REFUSED',
      `${where} does not offer the IPMI cipher suite asked for; set ipmi_cipher_suite (3 or 17): ${said}`,
    );
  if (UNREACHABLE.some((r) => r.test(stderr))) return ccError('CC_ERR_BMC_UNREACHABLE', `${where}: ${said}`);
  const failed = COMMAND_FAILED.exec(stderr);
  if (failed) return ccError('CC_ERR_BMC_REFUSED', `${where}: ${failed[1]!.trim().slice(0, 300)}`);
  return ccError('CC_ERR_BMC_PROTOCOL', `${where}: ${said || 'ipmitool failed and printed nothing'}`);
}

/** `chassis bootdev` exits 0 even when the BMC refused a parameter: find the refusal in its stderr, if any. */
export function bootParameterRefusal(stderr: string): string | null {
  const m = /Set Chassis Boot Parameter \d+ failed\s*:.*$/im.exec(stderr);
  return m ? m[0].trim() : null;
}
