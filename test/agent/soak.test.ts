// Shortened soak: a day's worth of check-ins (1440 at the 60 s default) at a fast interval
// against the real core; the agent's heap must not grow and nothing may re-register.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLoop } from '../../agent/loop/agent-loop.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import { silentLogger } from '../../agent/loop/logger.ts';
import { loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { pxeBoot, startCore, until, type Core } from './core-harness.ts';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** One simulated day at the default interval. */
const DAY_OF_CHECKINS = 1440;
/** A leak of even 2 kB per check-in would show as ~2.5 MB over the measured span. */
const MAX_GROWTH_BYTES = 2.5 * 1024 * 1024;

let core: Core;
beforeAll(async () => {
  core = await startCore();
});
afterAll(async () => {
  await core?.dispose();
});

describe('soak', () => {
  it(`${DAY_OF_CHECKINS} check-ins: flat heap, one register, no failures`, async () => {
    const p = (await loadProfiles())[2]!;
    const { inventory, id } = personalize(p, 99, 1);
    const d = await pxeBoot(core.baseUrl, {
      mac: id.mac,
      uuid: id.uuid,
      serial: id.serial,
      manufacturer: '',
      product: '',
      buildarch: 'x86_64',
      platform: 'efi',
    });
    if (d.kind !== 'microkernel') throw new Error(d.kind);
    let checkins = 0;
    const loop = new AgentLoop({
      client: new ApplianceClient(core.baseUrl),
      token: d.token,
      nodeId: d.nodeId,
      inventory: async () => inventory,
      hooks: { reboot() {}, poweroff() {} },
      log: silentLogger,
      startDelayMaxMs: 0,
      intervalOverrideMs: 1,
      skewOverrideMs: 0,
      factsMaxAgeMs: 0, // rebuild the facts every time: the costly path
      onEvent: (e) => {
        if (e.type === 'checkin') checkins++;
      },
    });
    const done = loop.run();
    await until('warm-up', () => checkins >= 200, 60_000, 50);
    const start = heapAfterGc();
    await until('a day of check-ins', () => checkins >= DAY_OF_CHECKINS, 240_000, 50);
    const end = heapAfterGc();
    loop.stop();
    await done;
    const st = loop.status();
    expect(st.registers).toBe(1);
    expect(st.failures).toBe(0);
    expect(st.checkins).toBeGreaterThanOrEqual(DAY_OF_CHECKINS);
    expect(end - start).toBeLessThan(MAX_GROWTH_BYTES);
    console.log(`soak: ${st.checkins} check-ins, heap ${(start / 1048576).toFixed(1)} -> ${(end / 1048576).toFixed(1)} MiB`);
  });
});
