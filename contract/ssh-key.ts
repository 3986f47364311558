/**
 * OpenSSH public keys as an operator pastes them (`TYPE BASE64 [COMMENT]`), checked the same way by the
 * server (authoritative, on save) and the renderer (live, while typing). Pure, no Node or DOM APIs.
 * The base64 body is decoded and its wire format checked: RFC 4253 6.6 (the key blob starts with the type
 * as an SSH string), RFC 8709 4 (Ed25519), RFC 5656 3.1 (ECDSA), OpenSSH PROTOCOL.u2f (security keys).
 */

/** Key types accepted, with the SSH strings their blob holds after the type (`mpint` and `string` alike). */
const LAYOUT: Record<string, { fields: number; curve?: string }> = {
  // e, n (RFC 4253 6.6)
  'ssh-rsa': { fields: 2 },
  // public key (RFC 8709 4)
  'ssh-ed25519': { fields: 1 },
  // curve name, Q (RFC 5656 3.1)
  'ecdsa-sha2-nistp256': { fields: 2, curve: 'nistp256' },
  'ecdsa-sha2-nistp384': { fields: 2, curve: 'nistp384' },
  'ecdsa-sha2-nistp521': { fields: 2, curve: 'nistp521' },
  // public key, application (PROTOCOL.u2f)
  'sk-ssh-ed25519@openssh.com': { fields: 2 },
  // curve name, Q, application (PROTOCOL.u2f)
  'sk-ecdsa-sha2-nistp256@openssh.com': { fields: 3, curve: 'nistp256' },
};

/** Key types a policy accepts. */
export const SSH_KEY_TYPES = Object.keys(LAYOUT);

/** Smallest RSA modulus OpenSSH's sshd accepts (RequiredRSASize, OpenSSH 9.1). */
const MIN_RSA_BITS = 1024;
/**
 * A comment is written into installer shell commands, kickstart and YAML: printable ASCII without
 * quotes, backslash, backtick or `$`, so no target language needs an escaper for it.
 */
const COMMENT = /^[\x20-\x7e]*$/;
const COMMENT_FORBIDDEN = /['"`\\$]/;
/** Longest key line accepted (an RSA 16384-bit key is about 2.8 KiB). */
export const SSH_KEY_MAX_LENGTH = 16384;

/** A key that passed, normalised to `TYPE BASE64[ COMMENT]`. */
export interface SshKeyOk {
  ok: true;
  key: string;
  type: string;
  comment: string;
  /** RSA modulus size; null for other types. */
  bits: number | null;
}
/** A key that did not, and why (with the fix). */
export interface SshKeyBad {
  ok: false;
  reason: string;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Strict RFC 4648 base64 (padding required to a multiple of 4); null when it is not. */
export function decodeBase64(s: string): Uint8Array | null {
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (B64_INDEX.get(s[i]!)! << 18) |
      (B64_INDEX.get(s[i + 1]!)! << 12) |
      ((B64_INDEX.get(s[i + 2]!) ?? 0) << 6) |
      (B64_INDEX.get(s[i + 3]!) ?? 0);
    for (const b of [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]) if (o < out.length) out[o++] = b;
  }
  return out;
}

/** Split a blob into SSH strings (uint32 length + bytes); null when a length runs past the end. */
function sshStrings(blob: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < blob.length) {
    if (blob.length - off < 4) return null;
    const len = ((blob[off]! << 24) | (blob[off + 1]! << 16) | (blob[off + 2]! << 8) | blob[off + 3]!) >>> 0;
    off += 4;
    if (len > blob.length - off) return null;
    out.push(blob.subarray(off, off + len));
    off += len;
  }
  return out;
}

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/** Bits of an SSH mpint (RFC 4251 5: two's complement, big-endian, a leading 0 byte for positive numbers with the top bit set). */
function mpintBits(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

const bad = (reason: string): SshKeyBad => ({ ok: false, reason });

/** Check one public key line. */
export function checkSshKey(line: string): SshKeyOk | SshKeyBad {
  const text = line.trim();
  if (text.length === 0) return bad('the key is empty');
  if (text.length > SSH_KEY_MAX_LENGTH) return bad(`the key is longer than ${SSH_KEY_MAX_LENGTH} characters; paste one .pub line`);
  const [type, body, ...rest] = text.split(/\s+/);
  const layout = LAYOUT[type!];
  if (!layout) {
    if (type === 'ssh-dss') return bad('DSA keys (ssh-dss) are refused by current OpenSSH; use an ed25519 key (ssh-keygen -t ed25519)');
    if (text.includes(' ssh-') || text.includes(' ecdsa-') || text.includes(' sk-'))
      return bad('authorized_keys options before the key are not supported; paste only "TYPE BASE64 COMMENT"');
    if (text.startsWith('-----BEGIN')) return bad('this is a PEM file (maybe a private key!); paste the .pub line instead');
    return bad(`"${type!.slice(0, 40)}" is not a public key type; expected one of ${SSH_KEY_TYPES.join(', ')}`);
  }
  if (!body) return bad(`${type} key has no base64 body`);
  const blob = decodeBase64(body);
  if (!blob) return bad(`${type} key: the body is not valid base64 (was the line cut or wrapped?)`);
  const parts = sshStrings(blob);
  if (!parts || parts.length === 0) return bad(`${type} key: the body is not an SSH public key (a length runs past its end)`);
  if (ascii(parts[0]!) !== type) return bad(`${type} key: the body says it is a "${ascii(parts[0]!).slice(0, 40)}" key`);
  if (parts.length - 1 !== layout.fields)
    return bad(`${type} key: the body has ${parts.length - 1} fields, a ${type} key has ${layout.fields}`);
  if (layout.curve && ascii(parts[1]!) !== layout.curve)
    return bad(`${type} key: curve "${ascii(parts[1]!).slice(0, 20)}" does not match the type`);
  if ((type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') && parts[1]!.length !== 32)
    return bad(`${type} key: an Ed25519 public key is 32 bytes, this one is ${parts[1]!.length}`);
  const bits = type === 'ssh-rsa' ? mpintBits(parts[2]!) : null;
  if (bits !== null && bits < MIN_RSA_BITS)
    return bad(`ssh-rsa key of ${bits} bits: sshd refuses RSA keys under ${MIN_RSA_BITS} bits; use an ed25519 key`);
  const comment = rest.join(' ');
  if (!COMMENT.test(comment) || COMMENT_FORBIDDEN.test(comment))
    return bad(
      'the comment may hold printable ASCII only, without quotes, backslash, backtick or $ (it is written into installer scripts); edit the comment',
    );
  return { ok: true, key: comment ? `${type} ${body} ${comment}` : `${type} ${body}`, type: type!, comment, bits };
}

/** The key lines of a pasted or loaded text: blank lines and `#` comments skipped. */
export function sshKeyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}
