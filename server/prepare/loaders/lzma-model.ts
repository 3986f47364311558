/**
 * The probability model of raw LZMA1 (the format of the LZMA SDK's specification): the adaptive bit
 * probabilities both directions share, the state machine of literals and matches, and the tree layouts of
 * lengths and distances. lzma-decode.ts and lzma-encode.ts walk it the same way, so one file says what the
 * bits mean. Pure. Used to repack iPXE's compressed BIOS loader (ipxe-packed.ts).
 */

/** The three literal/position parameters of a raw LZMA1 stream (iPXE's unpacker fixes lc 2, lp 0, pb 0). */
export interface LzmaProps {
  /** Literal context bits: how many high bits of the previous byte choose a literal's table. */
  readonly lc: number;
  /** Literal position bits. */
  readonly lp: number;
  /** Position bits of the match/literal choice. */
  readonly pb: number;
}

/** Probabilities are 11-bit: 1024 is one half. */
export const PROB_BITS = 11;
export const PROB_INIT = 1 << (PROB_BITS - 1);
/** How fast a probability moves toward what it saw. */
export const MOVE_BITS = 5;
/** The range is shifted out a byte at a time when it falls under this. */
export const TOP = 1 << 24;

export const STATES = 12;
/** States below this follow a literal (the next literal is coded plainly, not against the match byte). */
export const LIT_STATES = 7;
export const MATCH_MIN = 2;
/** Lengths are coded as 0..271 (2..273): low 8, mid 8, high 256. */
export const LEN_LOW = 8;
export const LEN_MID = 8;
export const LEN_HIGH = 256;
export const MATCH_MAX = MATCH_MIN + LEN_LOW + LEN_MID + LEN_HIGH - 1;
/** Distance slots (6-bit), chosen by the length (0-based, capped at 3). */
export const DIST_SLOT_BITS = 6;
export const LEN_TO_DIST_STATES = 4;
/** Slots from here on code their low bits through `spec` probabilities; from END_POS_SLOT on, four `align` bits. */
export const START_POS_SLOT = 4;
export const END_POS_SLOT = 14;
export const FULL_DISTANCES = 1 << (END_POS_SLOT >> 1);
export const ALIGN_BITS = 4;
/** The end-of-stream marker is a match at this distance. */
export const END_MARKER_DIST = 0xffffffff;

/** The length coder's probabilities (one for matches, one for repeated matches). */
export interface LenProbs {
  choice: Uint16Array; // [choice, choice2]
  low: Uint16Array; // posStates x 8 (3-bit trees, index 1..7)
  mid: Uint16Array;
  high: Uint16Array; // 256 (8-bit tree)
}

/** Every adaptive probability of a stream, all starting at one half. */
export interface LzmaProbs {
  isMatch: Uint16Array;
  isRep: Uint16Array;
  isRepG0: Uint16Array;
  isRepG1: Uint16Array;
  isRepG2: Uint16Array;
  isRep0Long: Uint16Array;
  literal: Uint16Array;
  distSlot: Uint16Array; // LEN_TO_DIST_STATES x 64
  spec: Uint16Array; // 1 + FULL_DISTANCES - END_POS_SLOT
  align: Uint16Array; // 16
  len: LenProbs;
  repLen: LenProbs;
}

const probs = (n: number): Uint16Array => new Uint16Array(n).fill(PROB_INIT);

function lenProbs(posStates: number): LenProbs {
  return { choice: probs(2), low: probs(posStates * LEN_LOW), mid: probs(posStates * LEN_MID), high: probs(LEN_HIGH) };
}

/** Check the parameters a raw stream is coded with (the ranges of the SDK's properties byte). */
export function checkProps(p: LzmaProps): void {
  const ok = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
  if (!ok(p.lc, 8) || !ok(p.lp, 4) || !ok(p.pb, 4))
    throw new RangeError(`LZMA parameters out of range: lc ${p.lc}, lp ${p.lp}, pb ${p.pb}`);
}

/** A fresh model for `p`. */
export function newProbs(p: LzmaProps): LzmaProbs {
  const posStates = 1 << p.pb;
  return {
    isMatch: probs(STATES << 4),
    isRep: probs(STATES),
    isRepG0: probs(STATES),
    isRepG1: probs(STATES),
    isRepG2: probs(STATES),
    isRep0Long: probs(STATES << 4),
    literal: probs(0x300 << (p.lc + p.lp)),
    distSlot: probs(LEN_TO_DIST_STATES << DIST_SLOT_BITS),
    spec: probs(1 + FULL_DISTANCES - END_POS_SLOT),
    align: probs(1 << ALIGN_BITS),
    len: lenProbs(posStates),
    repLen: lenProbs(posStates),
  };
}

/** The state after a literal, a match, a repeated match, a one-byte repeat. */
export const afterLiteral = (s: number): number => (s < 4 ? 0 : s < 10 ? s - 3 : s - 6);
export const afterMatch = (s: number): number => (s < LIT_STATES ? 7 : 10);
export const afterRep = (s: number): number => (s < LIT_STATES ? 8 : 11);
export const afterShortRep = (s: number): number => (s < LIT_STATES ? 9 : 11);

/** Offset of the 0x300 literal probabilities for the byte at `pos` after `prev`. */
export function literalBase(p: LzmaProps, pos: number, prev: number): number {
  return 0x300 * (((pos & ((1 << p.lp) - 1)) << p.lc) + (prev >> (8 - p.lc)));
}

/** The distance slot of a distance (0-based): 0-3 are themselves, then two slots per power of two. */
export function distSlotOf(dist: number): number {
  if (dist < START_POS_SLOT) return dist;
  const top = 31 - Math.clz32(dist);
  return (top << 1) | ((dist >>> (top - 1)) & 1);
}
