// The agent's wait for init's network-ready marker (agent/loop/wait-ready.ts): found when it appears mid-wait,
// given up (false) when it never does, and at once when it is already there (an agent restart).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForFile } from '../../agent/loop/wait-ready.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-ready-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('waitForFile', () => {
  it('resolves true once the marker appears, also when it exists already', async () => {
    const f = path.join(tmp, 'network-ready');
    const waiting = waitForFile(f, 30_000, 20);
    setTimeout(() => writeFileSync(f, ''), 200);
    expect(await waiting).toBe(true);
    expect(await waitForFile(f, 0)).toBe(true);
  });

  it('resolves false when the marker never appears (the agent then looks for the appliance anyway)', async () => {
    expect(await waitForFile(path.join(tmp, 'never'), 150, 20)).toBe(false);
  });
});
