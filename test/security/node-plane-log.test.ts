/**
 * The node plane's log under a flood of failing requests: each 5xx was one "request failed" line with a stack, so a
 * rack host asking for the microkernel while none is installed (503) wrote a line per request. Now one line per
 * interval, with the count of the rest (server/core/interval-logger.ts), as DHCP's and TFTP's warnings.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import { httpFrom } from './helpers/http-from.ts';

let t: TestAppliance | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

describe('the node plane log', () => {
  it('writes one line for 200 failing requests from the rack, and every request is still answered', async () => {
    const { log, logged } = recordingLogger();
    t = await startTestAppliance({}, { log });
    const before = logged.filter((l) => l.includes('request failed')).length;
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await httpFrom('127.0.0.1', 'GET', `${t.nodeUrl}/mk/vmlinuz`);
      expect(r.status).toBe(503);
      codes.add(r.body.code);
    }
    expect([...codes]).toEqual(['CC_ERR_NO_MICROKERNEL']);
    const lines = logged.filter((l) => l.includes('request failed'));
    expect(lines.length - before).toBe(1);
  });
});
