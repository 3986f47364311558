/**
 * The e2e's "registered after X s" (test/e2e/harness/timings.ts registeredAfterS): the node's first `node.registered`
 * event of this power-on, not the moment a once-a-second poll saw the node.
 */
import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../contract/events.ts';
import { registeredAfterS } from '../e2e/harness/timings.ts';

const ev = (seq: number, type: string, nodeId: number | null, iso: string): CcEvent =>
  ({ seq, ts: iso, type, node_id: nodeId, mac: null, message: '', data: {} }) as unknown as CcEvent;

describe('registeredAfterS', () => {
  const poweredOnAt = Date.parse('2026-12-05T20:00:00.000Z');
  const events = [
    ev(1, 'node.registered', 7, '2026-12-05T19:59:40.000Z'), // an earlier power-on of the same node
    ev(2, 'node.discovered', 7, '2026-12-05T20:00:02.000Z'),
    ev(3, 'node.registered', 8, '2026-12-05T20:00:15.100Z'), // another node
    ev(4, 'node.registered', 7, '2026-12-05T20:00:16.850Z'), // the first register of this power-on (partial facts)
    ev(5, 'node.registered', 7, '2026-12-05T20:00:19.400Z'), // the complete facts
  ];

  it("is the node's first registration after its power-on, in seconds", () => {
    expect(registeredAfterS({ poweredOnAt }, 7, events)).toBeCloseTo(16.85, 5);
    expect(registeredAfterS({ poweredOnAt }, 8, events)).toBeCloseTo(15.1, 5);
  });

  it('is null when the node has not registered since its power-on', () => {
    expect(registeredAfterS({ poweredOnAt }, 9, events)).toBeNull();
    expect(registeredAfterS({ poweredOnAt: Date.parse('2026-12-05T20:01:00.000Z') }, 7, events)).toBeNull();
  });
});
