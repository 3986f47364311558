/** The pure sender window: lock-step, windows, gaps, duplicates, and no resend storm after a resend. */
import { describe, it, expect } from 'vitest';
import { SendWindow } from '../../server/tftp/window.ts';

/** Send everything the window allows; returns the blocks put on the wire. */
function sendAll(w: SendWindow): number[] {
  const out: number[] = [];
  while (w.next <= w.end()) out.push(w.next++);
  return out;
}

describe('SendWindow', () => {
  it("lock-step ignores a duplicate ACK (RFC 1350: no Sorcerer's Apprentice)", () => {
    const w = new SendWindow(3, 1);
    expect(sendAll(w)).toEqual([1]);
    expect(w.ack(1)).toBe('advanced');
    expect(sendAll(w)).toEqual([2]);
    expect(w.ack(1)).toBe('duplicate');
    expect(w.rewound).toBe(false);
    expect(w.ack(2)).toBe('advanced');
    expect(sendAll(w)).toEqual([3]);
    expect(w.ack(3)).toBe('done');
  });

  it('a receiver that saw a gap ACKs its last in-order block and gets the rest again (RFC 7440 4)', () => {
    const w = new SendWindow(100, 4);
    expect(sendAll(w)).toEqual([1, 2, 3, 4]);
    expect(w.ack(2)).toBe('advanced');
    expect(w.rewound).toBe(true);
    expect(sendAll(w)).toEqual([3, 4, 5, 6]);
    // The first block of a window lost: the receiver repeats the ACK of the previous window's end.
    expect(w.ack(6)).toBe('advanced');
    expect(sendAll(w)).toEqual([7, 8, 9, 10]);
    expect(w.ack(6)).toBe('duplicate');
    expect(w.rewound).toBe(true);
    expect(sendAll(w)).toEqual([7, 8, 9, 10]);
    // Answered once per window position.
    expect(w.ack(6)).toBe('duplicate');
    expect(w.rewound).toBe(false);
  });

  it('after a timeout resend, the repeats that the copies provoke do not resend the next window', () => {
    const w = new SendWindow(100, 4);
    sendAll(w); // 1-4, the ACK is late
    w.rewind(); // timeout
    expect(sendAll(w)).toEqual([1, 2, 3, 4]);
    expect(w.ack(4)).toBe('advanced'); // the late ACK
    expect(sendAll(w)).toEqual([5, 6, 7, 8]);
    expect(w.ack(4)).toBe('duplicate'); // the receiver's answer to the copies of 1-4
    expect(w.rewound).toBe(false);
    expect(w.ack(8)).toBe('advanced');
    expect(sendAll(w)).toEqual([9, 10, 11, 12]);
    // Past the recovery point a repeat is news again: the first block of this window was lost.
    expect(w.ack(8)).toBe('duplicate');
    expect(w.rewound).toBe(true);
  });

  it('counts absolutely and maps 16-bit ACKs across the rollover', () => {
    const w = new SendWindow(70_001, 64);
    for (let b = 64; b <= 65_536; b += 64) {
      sendAll(w);
      expect(w.ack(b & 0xffff)).toBe('advanced');
    }
    expect(w.base).toBe(65_537);
    expect(sendAll(w)[0]).toBe(65_537);
  });
});
