/**
 * Raw LZMA1 encoder: literals, matches and repeats of the last distance, found greedily with one step of
 * look-ahead through hash chains, then the end-of-stream marker; no header. Deterministic (the same bytes
 * always give the same stream), so a file repacked with it can be pinned by its sha256 anywhere. It is not
 * xz: its streams are a few percent larger than xz -6e's. Pure.
 * Its output is part of a pin: any change to what it writes changes `undionly.kpxe`'s installed sha256 in
 * registry.ts (test/loaders/ipxe-packed.test.ts fails until the pin, PROVENANCE.md and the docs follow), and a data
 * dir prepared before then reports `undionly.kpxe mismatch` until `crashcart prepare` runs again.
 */
import {
  ALIGN_BITS,
  DIST_SLOT_BITS,
  END_MARKER_DIST,
  END_POS_SLOT,
  LEN_LOW,
  LEN_MID,
  LEN_TO_DIST_STATES,
  LIT_STATES,
  MATCH_MAX,
  MATCH_MIN,
  MOVE_BITS,
  PROB_BITS,
  START_POS_SLOT,
  TOP,
  afterLiteral,
  afterMatch,
  afterRep,
  checkProps,
  distSlotOf,
  literalBase,
  newProbs,
  type LenProbs,
  type LzmaProps,
} from './lzma-model.ts';

const TWO_32 = 2 ** 32;

class RangeEncoder {
  private low = 0; // up to 33 bits: a Number, not an int32
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private readonly out: number[] = [];

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= TWO_32) {
      const carry = this.low >= TWO_32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }
  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range << 8) >>> 0;
      this.shiftLow();
    }
  }
  bit(probs: Uint16Array, i: number, b: number): void {
    const p = probs[i]!;
    const bound = (this.range >>> PROB_BITS) * p;
    if (b === 0) {
      this.range = bound;
      probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >> MOVE_BITS);
    }
    this.normalize();
  }
  direct(v: number, n: number): void {
    for (let k = n - 1; k >= 0; k--) {
      this.range >>>= 1;
      if ((v >>> k) & 1) this.low += this.range;
      this.normalize();
    }
  }
  tree(probs: Uint16Array, base: number, bits: number, v: number): void {
    let m = 1;
    for (let k = bits - 1; k >= 0; k--) {
      const b = (v >>> k) & 1;
      this.bit(probs, base + m, b);
      m = (m << 1) | b;
    }
  }
  reverse(probs: Uint16Array, base: number, bits: number, v: number): void {
    let m = 1;
    for (let k = 0; k < bits; k++) {
      const b = (v >>> k) & 1;
      this.bit(probs, base + m, b);
      m = (m << 1) | b;
    }
  }
  finish(): Buffer {
    for (let k = 0; k < 5; k++) this.shiftLow();
    return Buffer.from(this.out);
  }
}

function encodeLen(rc: RangeEncoder, l: LenProbs, posState: number, len: number): void {
  if (len < LEN_LOW) {
    rc.bit(l.choice, 0, 0);
    rc.tree(l.low, posState * LEN_LOW, 3, len);
  } else if (len < LEN_LOW + LEN_MID) {
    rc.bit(l.choice, 0, 1);
    rc.bit(l.choice, 1, 0);
    rc.tree(l.mid, posState * LEN_MID, 3, len - LEN_LOW);
  } else {
    rc.bit(l.choice, 0, 1);
    rc.bit(l.choice, 1, 1);
    rc.tree(l.high, 0, 8, len - LEN_LOW - LEN_MID);
  }
}

/** Hash chains over 3-byte prefixes: how far back each position's previous occurrence of its prefix was. */
const HASH_BITS = 16;
/** Candidates looked at per position: enough for a loader of a few hundred KiB in well under a second. */
const CHAIN_DEPTH = 96;
/** A 3-byte match further back than this costs more than three literals. */
const FAR_3 = 1 << 14;

/** Encode `data` as a raw LZMA1 stream with `props`, ended by the end-of-stream marker. */
export function lzmaEncode(data: Uint8Array, props: LzmaProps): Buffer {
  checkProps(props);
  const n = data.length;
  const pr = newProbs(props);
  const rc = new RangeEncoder();
  const pbMask = (1 << props.pb) - 1;
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(n);
  const hash = (i: number) => Math.imul(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16), 0x9e3779b1) >>> (32 - HASH_BITS);
  let inserted = 0;
  const insertUpTo = (end: number): void => {
    for (; inserted < end && inserted + 2 < n; inserted++) {
      const h = hash(inserted);
      prev[inserted] = head[h]!;
      head[h] = inserted;
    }
  };
  const common = (a: number, b: number, max: number): number => {
    let k = 0;
    while (k < max && data[a + k] === data[b + k]) k++;
    return k;
  };
  /** Longest match at `pos` through the chain (0-based distance), or length 0. */
  const longest = (pos: number): { len: number; dist: number } => {
    let best = 0;
    let dist = 0;
    const max = Math.min(MATCH_MAX, n - pos);
    if (max < 3) return { len: 0, dist: 0 };
    insertUpTo(pos);
    let c = head[hash(pos)]!;
    for (let d = 0; c >= 0 && d < CHAIN_DEPTH; d++, c = prev[c]!) {
      if (data[c + best] !== data[pos + best]) continue;
      const l = common(c, pos, max);
      if (l > best) {
        best = l;
        dist = pos - c - 1;
        if (l === max) break;
      }
    }
    if (best === 3 && dist >= FAR_3) return { len: 0, dist: 0 };
    return best >= 3 ? { len: best, dist } : { len: 0, dist: 0 };
  };

  let state = 0;
  // The last distance (the decoder keeps four; this encoder only ever repeats the last, so the others never matter).
  let rep0 = 0;
  let pos = 0;
  const literal = (): void => {
    const posState = pos & pbMask;
    rc.bit(pr.isMatch, (state << 4) + posState, 0);
    const base = literalBase(props, pos, pos > 0 ? data[pos - 1]! : 0);
    const byte = data[pos]!;
    let sym = 1;
    let matched = state >= LIT_STATES;
    const match = matched ? data[pos - rep0 - 1]! : 0;
    for (let k = 7; k >= 0; k--) {
      const b = (byte >> k) & 1;
      if (matched) {
        const mb = (match >> k) & 1;
        rc.bit(pr.literal, base + ((1 + mb) << 8) + sym, b);
        matched = b === mb;
      } else rc.bit(pr.literal, base + sym, b);
      sym = (sym << 1) | b;
    }
    state = afterLiteral(state);
    pos++;
  };
  const distance = (dist: number, len: number): void => {
    const lenState = Math.min(len - MATCH_MIN, LEN_TO_DIST_STATES - 1);
    const slot = distSlotOf(dist);
    rc.tree(pr.distSlot, lenState << DIST_SLOT_BITS, DIST_SLOT_BITS, slot);
    if (slot >= START_POS_SLOT) {
      const direct = (slot >> 1) - 1;
      const base = ((2 | (slot & 1)) << direct) >>> 0;
      const rest = dist - base;
      if (slot < END_POS_SLOT) rc.reverse(pr.spec, base - slot, direct, rest);
      else {
        rc.direct(rest >>> ALIGN_BITS, direct - ALIGN_BITS);
        rc.reverse(pr.align, 0, ALIGN_BITS, rest & ((1 << ALIGN_BITS) - 1));
      }
    }
  };
  const match = (dist: number, len: number): void => {
    const posState = pos & pbMask;
    rc.bit(pr.isMatch, (state << 4) + posState, 1);
    rc.bit(pr.isRep, state, 0);
    encodeLen(rc, pr.len, posState, len - MATCH_MIN);
    distance(dist, len);
    state = afterMatch(state);
    rep0 = dist;
    pos += len;
  };
  const repeat = (len: number): void => {
    const posState = pos & pbMask;
    rc.bit(pr.isMatch, (state << 4) + posState, 1);
    rc.bit(pr.isRep, state, 1);
    rc.bit(pr.isRepG0, state, 0);
    rc.bit(pr.isRep0Long, (state << 4) + posState, 1);
    encodeLen(rc, pr.repLen, posState, len - MATCH_MIN);
    state = afterRep(state);
    pos += len;
  };

  let ahead: { len: number; dist: number } | null = null;
  while (pos < n) {
    const found = ahead ?? longest(pos);
    ahead = null;
    const repLen = pos > rep0 ? common(pos - rep0 - 1, pos, Math.min(MATCH_MAX, n - pos)) : 0;
    if (repLen >= MATCH_MIN && repLen + 1 >= found.len) {
      repeat(repLen);
      continue;
    }
    if (found.len === 0) {
      literal();
      continue;
    }
    // One step of look-ahead: a longer match at the next byte is worth a literal here.
    if (pos + 1 < n) {
      const next = longest(pos + 1);
      if (next.len > found.len) {
        literal();
        ahead = next;
        continue;
      }
    }
    match(found.dist, found.len);
  }
  // The end-of-stream marker: a shortest match at the distance that cannot be.
  const posState = pos & pbMask;
  rc.bit(pr.isMatch, (state << 4) + posState, 1);
  rc.bit(pr.isRep, state, 0);
  encodeLen(rc, pr.len, posState, 0);
  distance(END_MARKER_DIST, MATCH_MIN);
  return rc.finish();
}
