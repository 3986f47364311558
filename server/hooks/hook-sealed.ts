/**
 * A hook's sealed fields: the webhook URL and the HMAC secret, each sealed with the data dir's key for its own
 * record (`hook/<id>/url`, `hook/<id>/secret`). Opening one that does not open (the key file was replaced, the
 * record altered) gives the failure a delivery reports at once: it is never sent elsewhere or unsigned. And the
 * `hook.failed` event of a delivery that failed for good.
 */
import type { HookDeliveryDoc, HookDoc } from '../store/docs.ts';
import type { HOOK_FAILURE_CODES } from '../../contract/hooks.ts';
import type { EventInput } from '../events/event-log.ts';
import { secretRecord, type SecretBox } from '../secrets/secret-box.ts';
import { CcError, ccError } from '../errors/cc-error.ts';
import { displayUrl } from './hook-url.ts';

/** Why a delivery failed for good: a catalog code, the reason and the fix. */
export interface HookFailure {
  code: (typeof HOOK_FAILURE_CODES)[number];
  reason: string;
  fix: string;
}

/** The record's URL fields for `url`: the display form, and the full URL sealed for hook `id`. */
export function sealUrl(box: SecretBox, id: string, url: string): Pick<HookDoc, 'url' | 'url_enc'> {
  return { url: displayUrl(url), url_enc: box.seal(url, secretRecord('hook', id, 'url')) };
}

/** One sealed field of `h` opened, or the failure it becomes. */
function openField(
  box: SecretBox,
  h: HookDoc,
  field: 'url' | 'secret',
  envelope: string | null | undefined,
): { value: string | null; unreadable: HookFailure | null } {
  const record = secretRecord('hook', h._id, field);
  try {
    if (typeof envelope !== 'string') throw ccError('CC_ERR_SECRET_UNREADABLE', `nothing sealed for ${record}`);
    return { value: box.open(envelope, record), unreadable: null };
  } catch (e) {
    if (!(e instanceof CcError)) throw e;
    const code = field === 'url' ? 'CC_ERR_HOOK_URL_UNREADABLE' : 'CC_ERR_HOOK_SECRET_UNREADABLE';
    const err = ccError(code, `hook "${h.name}" (${h._id}): ${e.message}`);
    return { value: null, unreadable: { code, reason: err.message, fix: err.fix } };
  }
}

/**
 * What a delivery of `h` is sent with: the full URL (webhooks), the secret in clear (null when there is none), or
 * the first of the two that cannot be opened.
 */
export function openHook(box: SecretBox, h: HookDoc): { url: string | null; secret: string | null; unreadable: HookFailure | null } {
  const url = h.kind === 'webhook' ? openField(box, h, 'url', h.url_enc) : { value: null, unreadable: null };
  if (url.unreadable) return { url: null, secret: null, unreadable: url.unreadable };
  const secret = h.secret ? openField(box, h, 'secret', h.secret) : { value: null, unreadable: null };
  return { url: url.value, secret: secret.value, unreadable: secret.unreadable };
}

/** The delivery log's text of a failure that is not the receiver's (a field that does not open). */
export const failureText = (f: HookFailure): string => `${f.code}: ${f.reason}. Fix: ${f.fix}`;

/**
 * The `hook.failed` event of a delivery that will not be attempted again: the hook, the delivery, the attempts and
 * why; of the target only the script's name or the URL's display form, and never the payload.
 */
export function hookFailedEvent(h: HookDoc, doc: HookDeliveryDoc, f: HookFailure): EventInput<'hook.failed'> {
  const n = doc.attempts;
  return {
    node_id: doc.node_id,
    message: `Hook ${h.name}: its ${doc.event} delivery failed after ${n} attempt${n === 1 ? '' : 's'} (${f.code}): ${f.reason}`,
    data: {
      hook_id: h._id,
      hook: h.name,
      target: (h.kind === 'script' ? h.script : h.url) ?? '',
      delivery_id: doc._id,
      event: doc.event,
      attempts: n,
      code: f.code,
      error: f.reason,
      fix: f.fix,
    },
  };
}
