/**
 * Raw LZMA1 decoder: a stream with no header, ended by the end-of-stream marker (or by `maxOut`), as iPXE
 * packs its BIOS images. Pure; a malformed stream throws a RangeError naming where it went wrong.
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
  MATCH_MIN,
  MOVE_BITS,
  PROB_BITS,
  START_POS_SLOT,
  TOP,
  afterLiteral,
  afterMatch,
  afterRep,
  afterShortRep,
  checkProps,
  literalBase,
  newProbs,
  type LenProbs,
  type LzmaProps,
} from './lzma-model.ts';

/** What a decode found: the bytes and how much of the input the stream took. */
export interface LzmaDecoded {
  readonly data: Buffer;
  /** Bytes of input the stream used, its first byte (always 0) and the range coder's last bytes included. */
  readonly consumed: number;
  /** True when the stream ended with the end-of-stream marker (false: `maxOut` reached first). */
  readonly endMarker: boolean;
}

class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  pos: number;
  constructor(private readonly input: Uint8Array) {
    if (input.length < 5) throw new RangeError("LZMA stream shorter than the range coder's 5 first bytes");
    if (input[0] !== 0) throw new RangeError(`LZMA stream starts with ${input[0]}, not 0`);
    for (let i = 1; i < 5; i++) this.code = ((this.code << 8) | input[i]!) >>> 0;
    this.pos = 5;
    if (this.code === this.range) throw new RangeError('LZMA stream: range coder starts out of range');
  }
  private next(): number {
    if (this.pos >= this.input.length) throw new RangeError(`LZMA stream ends early (at byte ${this.input.length})`);
    return this.input[this.pos++]!;
  }
  private normalize(): void {
    if (this.range < TOP) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> PROB_BITS) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE_BITS);
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >> MOVE_BITS);
      b = 1;
    }
    this.normalize();
    return b;
  }
  direct(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = ((v << 1) | b) >>> 0;
      this.normalize();
    }
    return v;
  }
  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let k = 0; k < bits; k++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }
  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let v = 0;
    for (let k = 0; k < bits; k++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      v |= b << k;
    }
    return v;
  }
}

function decodeLen(rc: RangeDecoder, l: LenProbs, posState: number): number {
  if (rc.bit(l.choice, 0) === 0) return rc.tree(l.low, posState * LEN_LOW, 3);
  if (rc.bit(l.choice, 1) === 0) return LEN_LOW + rc.tree(l.mid, posState * LEN_MID, 3);
  return LEN_LOW + LEN_MID + rc.tree(l.high, 0, 8);
}

/** Decode a raw LZMA1 stream coded with `props`, stopping at its end marker or after `maxOut` bytes. */
export function lzmaDecode(input: Uint8Array, props: LzmaProps, maxOut: number): LzmaDecoded {
  checkProps(props);
  const pr = newProbs(props);
  const rc = new RangeDecoder(input);
  const out = Buffer.alloc(maxOut);
  const pbMask = (1 << props.pb) - 1;
  let pos = 0;
  let state = 0;
  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;
  const copy = (dist: number, len: number): void => {
    if (dist >= pos) throw new RangeError(`LZMA stream: a match ${dist + 1} back at byte ${pos} reaches before the start`);
    if (pos + len > maxOut) throw new RangeError(`LZMA stream: output passes ${maxOut} bytes`);
    for (let k = 0; k < len; k++, pos++) out[pos] = out[pos - dist - 1]!;
  };
  while (pos < maxOut) {
    const posState = pos & pbMask;
    if (rc.bit(pr.isMatch, (state << 4) + posState) === 0) {
      const base = literalBase(props, pos, pos > 0 ? out[pos - 1]! : 0);
      let sym = 1;
      if (state >= LIT_STATES) {
        if (rep0 >= pos) throw new RangeError(`LZMA stream: a literal's match byte at byte ${pos} reaches before the start`);
        let match = out[pos - rep0 - 1]!;
        while (sym < 0x100) {
          const mb = (match >> 7) & 1;
          match <<= 1;
          const b = rc.bit(pr.literal, base + ((1 + mb) << 8) + sym);
          sym = (sym << 1) | b;
          if (b !== mb) break;
        }
      }
      while (sym < 0x100) sym = (sym << 1) | rc.bit(pr.literal, base + sym);
      out[pos++] = sym & 0xff;
      state = afterLiteral(state);
      continue;
    }
    let len: number;
    if (rc.bit(pr.isRep, state) === 1) {
      if (pos === 0) throw new RangeError('LZMA stream: a repeated match at byte 0');
      if (rc.bit(pr.isRepG0, state) === 0) {
        if (rc.bit(pr.isRep0Long, (state << 4) + posState) === 0) {
          state = afterShortRep(state);
          copy(rep0, 1);
          continue;
        }
      } else {
        let d: number;
        if (rc.bit(pr.isRepG1, state) === 0) d = rep1;
        else {
          if (rc.bit(pr.isRepG2, state) === 0) d = rep2;
          else {
            d = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = d;
      }
      len = decodeLen(rc, pr.repLen, posState);
      state = afterRep(state);
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = decodeLen(rc, pr.len, posState);
      state = afterMatch(state);
      const lenState = Math.min(len, LEN_TO_DIST_STATES - 1);
      const slot = rc.tree(pr.distSlot, lenState << DIST_SLOT_BITS, DIST_SLOT_BITS);
      let dist = slot;
      if (slot >= START_POS_SLOT) {
        const direct = (slot >> 1) - 1;
        dist = ((2 | (slot & 1)) << direct) >>> 0;
        if (slot < END_POS_SLOT) dist += rc.reverse(pr.spec, dist - slot, direct);
        else dist = (dist + ((rc.direct(direct - ALIGN_BITS) << ALIGN_BITS) >>> 0) + rc.reverse(pr.align, 0, ALIGN_BITS)) >>> 0;
      }
      if (dist === END_MARKER_DIST) return { data: out.subarray(0, pos), consumed: rc.pos, endMarker: true };
      rep0 = dist;
    }
    copy(rep0, len + MATCH_MIN);
  }
  return { data: out, consumed: rc.pos, endMarker: false };
}
