import { describe, expect, it } from 'vitest';
import { powerSummary, POWER_TEXT } from './bmc-actions.ts';

describe('power outcome summary', () => {
  it('says done, the first warning, or how many failed and why', () => {
    expect(powerSummary('on', { results: [{ node_id: 1, ok: true, power: 'on' }] })).toEqual({
      ok: true,
      text: 'Power on: 1 node(s) done',
    });
    const warned = powerSummary('on', {
      results: [
        { node_id: 1, ok: true, warnings: ['boot device pxe not set: refused'] },
        { node_id: 2, ok: true },
      ],
    });
    expect(warned).toEqual({ ok: true, text: 'Power on: 2 node(s) done (warning: boot device pxe not set: refused)' });
    const failed = powerSummary('cycle', {
      results: [
        { node_id: 1, ok: true },
        { node_id: 2, ok: false, code: 'CC_ERR_BMC_NOT_CONFIGURED', reason: 'node 2 has no BMC' },
      ],
    });
    expect(failed).toEqual({ ok: false, text: 'Power cycle: 1 of 2 failed — node 2 has no BMC' });
  });

  it('offers PXE once only for actions that boot the machine, and asks before cutting power', () => {
    expect(
      Object.entries(POWER_TEXT)
        .filter(([, t]) => t.pxe)
        .map(([a]) => a),
    ).toEqual(['on', 'cycle', 'reset']);
    expect(
      Object.entries(POWER_TEXT)
        .filter(([, t]) => t.confirm === null)
        .map(([a]) => a),
    ).toEqual(['on', 'status']);
  });
});
