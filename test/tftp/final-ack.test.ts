import { describe, expect, it } from 'vitest';
import { finalAckDetail, onlyFinalAckMissing, type GiveUpState } from '../../server/tftp/final-ack.ts';

// 1 MiB at blksize 1024: 1024 full blocks and the empty block 1025 that ends the file.
const base: GiveUpState = { size: 1 << 20, blksize: 1024, windowsize: 1, acked: 1024, started: true, hadOack: true };

describe('onlyFinalAckMissing', () => {
  it('lock-step: only the final block unacknowledged is a finish', () => {
    expect(onlyFinalAckMissing(base)).toBe(true);
    expect(onlyFinalAckMissing({ ...base, acked: 1023 })).toBe(false);
    expect(onlyFinalAckMissing({ ...base, acked: 3 })).toBe(false);
  });

  it('windowed: the unacknowledged blocks must all lie in the final window', () => {
    const w = { ...base, windowsize: 8 };
    expect(onlyFinalAckMissing({ ...w, acked: 1017 })).toBe(true); // 1018..1025: 8 blocks
    expect(onlyFinalAckMissing({ ...w, acked: 1016 })).toBe(false); // 9 blocks: one window was never sent whole
  });

  it('needs a sign that a client was there: an acknowledged OACK or block', () => {
    const tiny = { ...base, size: 100, blksize: 512, acked: 0 };
    expect(onlyFinalAckMissing({ ...tiny, hadOack: true })).toBe(true);
    expect(onlyFinalAckMissing({ ...tiny, hadOack: false })).toBe(false);
    expect(onlyFinalAckMissing({ ...base, started: false, acked: 0 })).toBe(false);
  });

  it('a transfer already complete is not a give-up', () => {
    expect(onlyFinalAckMissing({ ...base, acked: 1025 })).toBe(false);
  });

  it('says what was seen', () => {
    expect(finalAckDetail(base)).toMatch(/^final ACK not seen: every block was sent, the client acknowledged 1024 of 1025/);
  });
});
