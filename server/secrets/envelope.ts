/**
 * The sealed form of one secret: AES-256-GCM (NIST SP 800-38D) with a fresh
 * 96-bit IV per seal, in a versioned text envelope that names the key it was
 * sealed with, so the key can be rotated without a flag day:
 *
 *   ccs1:<key id>:<iv>:<ciphertext>:<tag>        (base64url fields)
 *
 * The authenticated data is the envelope header plus the record the secret
 * belongs to (e.g. `node/12/bmc.password`): a ciphertext copied onto another
 * node's record, or relabelled with another key id, fails to open. Pure apart
 * from the IV's randomness: no files, no clock, no logger.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ccError } from '../errors/cc-error.ts';

/** Envelope format tag; a later format gets `ccs2` and both are read. */
export const ENVELOPE_VERSION = 'ccs1';
/** AES-256 key length in bytes. */
export const KEY_BYTES = 32;
/** GCM IV length: 96 bits is the length SP 800-38D 8.2 recommends (no GHASH of the IV). */
const IV_BYTES = 12;
/** Full 128-bit tag: shorter tags weaken the forgery bound (SP 800-38D 5.2.1.2). */
const TAG_BYTES = 16;
/** Key ids are short and safe inside the envelope and in the key file. */
export const KEY_ID_PATTERN = /^[a-z0-9]{1,16}$/;

/** The pieces of an envelope. */
export interface Envelope {
  version: typeof ENVELOPE_VERSION;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const aad = (keyId: string, record: string) => Buffer.from(`${ENVELOPE_VERSION}|${keyId}|${record}`, 'utf8');

/** Seal `plaintext` for `record` with the key `keyId`. */
export function seal(key: Buffer, keyId: string, plaintext: string, record: string): string {
  if (key.length !== KEY_BYTES) throw new RangeError(`secret key must be ${KEY_BYTES} bytes`);
  if (!KEY_ID_PATTERN.test(keyId)) throw new RangeError(`bad key id ${JSON.stringify(keyId)}`);
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad(keyId, record));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return [ENVELOPE_VERSION, keyId, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join(':');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Split an envelope string; anything malformed is CC_ERR_SECRET_UNREADABLE. */
export function parseEnvelope(text: string): Envelope {
  const parts = text.split(':');
  const bad = (why: string) => ccError('CC_ERR_SECRET_UNREADABLE', `malformed envelope (${why})`);
  if (parts.length !== 5) throw bad('expected 5 fields');
  const [version, keyId, iv, ct, tag] = parts as [string, string, string, string, string];
  if (version !== ENVELOPE_VERSION) throw bad(`unknown version ${JSON.stringify(version.slice(0, 8))}`);
  if (!KEY_ID_PATTERN.test(keyId)) throw bad('bad key id');
  if (![iv, ct, tag].every((f) => B64URL.test(f))) throw bad('bad base64url');
  const env: Envelope = {
    version,
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    ciphertext: Buffer.from(ct, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
  };
  if (env.iv.length !== IV_BYTES || env.tag.length !== TAG_BYTES) throw bad('bad IV or tag length');
  return env;
}

/** Open an envelope sealed for `record`; a wrong key, a changed byte or another record all fail the tag check. */
export function open(key: Buffer, text: string, record: string): string {
  const env = parseEnvelope(text);
  const d = createDecipheriv('aes-256-gcm', key, env.iv, { authTagLength: TAG_BYTES });
  d.setAAD(aad(env.keyId, record));
  d.setAuthTag(env.tag);
  try {
    return Buffer.concat([d.update(env.ciphertext), d.final()]).toString('utf8');
  } catch {
    // GCM says only "unable to authenticate": a wrong key, tampering and a swapped record look alike on purpose.
    throw ccError('CC_ERR_SECRET_UNREADABLE', `the envelope for ${record} does not authenticate with key ${env.keyId}`);
  }
}
