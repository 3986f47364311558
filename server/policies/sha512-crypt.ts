/**
 * SHA-512-based crypt (`$6$`), written from Ulrich Drepper's public specification "Unix crypt using
 * SHA-256 and SHA-512" (the algorithm glibc, d-i, kickstart and cloud-init accept for root passwords).
 * Pure: the caller supplies the salt (randomSalt() draws one); no clock, file or logger.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The crypt alphabet of the spec ("b64_from_24bit"), not RFC 4648 base64. */
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Spec: rounds default when no `rounds=` is given. */
export const SPEC_DEFAULT_ROUNDS = 5000;
/** Spec: fewer rounds are raised to this. */
const ROUNDS_MIN = 1000;
/** Spec: more rounds are lowered to this. */
const ROUNDS_MAX = 999_999_999;
/** Spec: salt characters used at most. */
const SALT_MAX = 16;

/**
 * Rounds Crashcart hashes with: the spec's default, which glibc and mkpasswd use too. The hash runs on
 * the event loop that also answers DHCP, so its cost (tens of ms here) is paid once per policy save.
 */
export const CRASHCART_ROUNDS = SPEC_DEFAULT_ROUNDS;

/** The byte order of the final encoding, in groups of three digest bytes (spec step 22). */
const ORDER: readonly (readonly [number, number, number])[] = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `n` bytes of `src` repeated (spec steps 16 and 20: the P and S sequences). */
function stretch(src: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += src.length) src.copy(out, off, 0, Math.min(src.length, n - off));
  return out;
}

function b64From24(b2: number, b1: number, b0: number, chars: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < chars; i++) {
    s += ITOA64[w & 0x3f];
    w >>>= 6;
  }
  return s;
}

/** A setting (`$6$salt`, `$6$rounds=N$salt`, or a whole hash) split into its parts. */
export interface CryptSetting {
  rounds: number;
  /** True when the setting named its rounds (then the output names them too). */
  customRounds: boolean;
  salt: string;
}

/** Parse the setting part of a `$6$` string; throws on anything else. */
export function parseSetting(setting: string): CryptSetting {
  if (!setting.startsWith('$6$')) throw new Error('not a $6$ (sha512-crypt) setting');
  let rest = setting.slice(3);
  let rounds = SPEC_DEFAULT_ROUNDS;
  let customRounds = false;
  const m = /^rounds=(\d{1,10})\$/.exec(rest);
  if (m) {
    rounds = Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Number(m[1])));
    customRounds = true;
    rest = rest.slice(m[0].length);
  }
  // Spec: the salt ends at the next '$' (or the end) and is cut to 16 characters.
  const end = rest.indexOf('$');
  const salt = (end < 0 ? rest : rest.slice(0, end)).slice(0, SALT_MAX);
  return { rounds, customRounds, salt };
}

/** sha512-crypt of `password` with the salt and rounds of `setting` (e.g. `$6$rounds=50000$abc`). */
export function sha512Crypt(password: string, setting: string): string {
  const { rounds, customRounds, salt } = parseSetting(setting);
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt, 'utf8');
  // Steps 4-8: digest B = H(P S P).
  const B = sha512(P, S, P);
  // Steps 1-3, 9-12: digest A = H(P S, len(P) bytes of B, then B or P per bit of len(P)).
  const a = createHash('sha512');
  a.update(P);
  a.update(S);
  a.update(stretch(B, P.length));
  for (let n = P.length; n > 0; n >>>= 1) a.update(n & 1 ? B : P);
  let A = a.digest();
  // Steps 13-16: the P sequence from DP = H(P repeated len(P) times).
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const PS = stretch(DP, P.length);
  // Steps 17-20: the S sequence from DS = H(S repeated 16 + A[0] times).
  const DS = sha512(...Array.from({ length: 16 + A[0]! }, () => S));
  const SS = stretch(DS, S.length);
  // Step 21: the rounds.
  for (let i = 0; i < rounds; i++) {
    const c = createHash('sha512');
    c.update(i & 1 ? PS : A);
    if (i % 3 !== 0) c.update(SS);
    if (i % 7 !== 0) c.update(PS);
    c.update(i & 1 ? A : PS);
    A = c.digest();
  }
  // Step 22: the output string.
  let out = '';
  for (const [x, y, z] of ORDER) out += b64From24(A[x]!, A[y]!, A[z]!, 4);
  out += b64From24(0, 0, A[63]!, 2);
  return `$6$${customRounds ? `rounds=${rounds}$` : ''}${salt}$${out}`;
}

/** A random 16-character salt from the crypt alphabet (96 bits). */
export function randomSalt(): string {
  const bytes = randomBytes(SALT_MAX);
  let s = '';
  for (const b of bytes) s += ITOA64[b & 0x3f];
  return s;
}

/** Hash a root password the way Crashcart stores it: `$6$rounds=5000$<random salt>$...`. */
export function hashRootPassword(password: string, salt = randomSalt()): string {
  return sha512Crypt(password, `$6$rounds=${CRASHCART_ROUNDS}$${salt}`);
}
