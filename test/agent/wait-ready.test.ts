// The agent's waits for init's markers (agent/loop/wait-ready.ts): network-ready, found when it appears mid-wait,
// given up (false) when it never does, and at once when it is already there (an agent restart); drivers-settled,
// the gate the full inventory passes once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { driversSettledGate, waitForFile } from '../../agent/loop/wait-ready.ts';
import type { AgentLogger } from '../../agent/loop/logger.ts';

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

/** A logger that keeps its lines. */
function recorder(): AgentLogger & { lines: { level: string; msg: string; obj: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('driversSettledGate', () => {
  it('holds the first full inventory until init marks the drivers settled, then opens for good', async () => {
    const f = path.join(tmp, 'drivers-settled');
    const log = recorder();
    const gate = driversSettledGate(f, log, 30_000, 20);
    let passed = false;
    const first = gate().then(() => (passed = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(passed).toBe(false);
    writeFileSync(f, '');
    await first;
    expect(log.lines).toEqual([{ level: 'info', msg: 'drivers settled', obj: { file: f, waited_ms: expect.any(Number) } }]);
    expect(log.lines[0]!.obj['waited_ms']).toBeGreaterThanOrEqual(150);
    rmSync(f);
    // Later inventories (the facts refresh at each check-in) never wait again, even if the file went away: the gate
    // is open before the event loop turns once (a poll for the missing file could only end after a timer, if ever).
    const later = gate().then(() => 'open');
    const turn = new Promise<string>((r) => setImmediate(() => r('a turn of the event loop')));
    expect(await Promise.race([later, turn])).toBe('open');
    expect(log.lines).toHaveLength(1);
  });

  it('gives up after its bound with a warning that says what may be missing, and opens', async () => {
    const log = recorder();
    await driversSettledGate(path.join(tmp, 'never-settled'), log, 100, 20)();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    expect(log.lines[0]!.msg).toMatch(/drivers still loading after 0.1 s: the full inventory may miss disks or the BMC/);
  });

  it('is open from the start without a file (a replay, or an agent outside the microkernel)', async () => {
    const log = recorder();
    await driversSettledGate(undefined, log)();
    expect(log.lines).toEqual([]);
  });
});
