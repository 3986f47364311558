/**
 * Pure reading of Redfish answers: status codes to catalog errors, the
 * message of a Redfish error body (DSP0266 9.6: `error.message` and
 * `error.@Message.ExtendedInfo[].Message`), and safe field access on JSON a
 * BMC sent (which may be anything). A BMC's text is quoted only after the
 * credentials are cut out of it (`redactText`, as ipmitool's output is): a
 * BMC that echoes the password must not put it into `bmc.error` events or
 * API answers.
 */
import { CcError, ccError } from '../../errors/cc-error.ts';
import { redactText } from '../../secrets/redact.ts';
import type { HttpAnswer } from './http-client.ts';

/** Longest BMC message quoted in an error. */
const MESSAGE_KEEP = 300;

/**
 * The message a Redfish error body carries, without `secrets`, cut to a readable length (cut after the
 * redaction, so a password straddling the cut cannot leave its first half behind).
 */
export function redfishMessage(json: unknown, text: string, secrets: readonly string[]): string {
  const err = obj(obj(json)['error']);
  const extended = arr(err['@Message.ExtendedInfo'])
    .map((m) => str(obj(m)['Message']))
    .filter((m): m is string => !!m);
  const msg = [str(err['message']), ...extended].filter((m): m is string => !!m).join('; ');
  // The raw body is redacted before its whitespace is folded: a password may hold spaces or line breaks.
  const said = msg || redactText(text, secrets).replace(/\s+/g, ' ').trim() || 'no message';
  return redactText(said, secrets).slice(0, MESSAGE_KEEP);
}

/** The catalog error for a non-2xx answer to `what` (e.g. "POST .../ComputerSystem.Reset"), the BMC's text without `secrets`. */
export function answerError(a: HttpAnswer, where: string, what: string, secrets: readonly string[]): CcError {
  const said = `${where}: ${what} -> HTTP ${a.status}: ${redfishMessage(a.json, a.text, secrets)}`;
  if (a.status === 401) return ccError('CC_ERR_BMC_AUTH', said);
  // 403: the user authenticated but may not do this (DSP0266 13.2.5): a privilege, i.e. credentials, matter.
  if (a.status === 403) return ccError('CC_ERR_BMC_AUTH', `${said} (the user lacks the privilege)`);
  if (a.status === 502 || a.status === 503 || a.status === 504) return ccError('CC_ERR_BMC_UNREACHABLE', said);
  if (a.status >= 400 && a.status < 600) return ccError('CC_ERR_BMC_REFUSED', said);
  return ccError('CC_ERR_BMC_PROTOCOL', said);
}

/** True for 2xx. */
export const ok = (a: HttpAnswer): boolean => a.status >= 200 && a.status < 300;

/** `v` as a plain object, or {} (a BMC's JSON is never trusted to have the shape the schema promises). */
export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
/** `v` as an array, or []. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
/** `v` as a string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
/** The `@odata.id` of a link object, if it is a path on this service. */
export function odataId(v: unknown): string | undefined {
  const id = str(obj(v)['@odata.id']);
  // Only paths under /redfish/: a hostile BMC must not steer requests (with our credentials) to absolute URLs.
  return id && /^\/redfish\/[^\s?#]*$/.test(id) ? id : undefined;
}
/** A string list (AllowableValues), or null when the BMC does not say. */
export function allowable(v: unknown): string[] | null {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
}

/**
 * The forms in which a driver sends its credentials, each of which a BMC could echo: the password, as its
 * JSON string body (inside the session POST, DSP0266 13.3.4) and the HTTP Basic token (RFC 7617 2).
 */
export function credentialForms(username: string, password: string): string[] {
  if (password === '') return [];
  return [...new Set([password, JSON.stringify(password).slice(1, -1), Buffer.from(`${username}:${password}`).toString('base64')])];
}

/** `e` with `secrets` cut out of its message when it is a catalog error (a BMC's text may be quoted in it). */
export function scrubbed(e: unknown, secrets: readonly string[]): unknown {
  if (e instanceof CcError) e.message = redactText(e.message, secrets);
  return e;
}
