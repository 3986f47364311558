/**
 * Wait for a marker file before the first call: the microkernel starts the agent while its init still loads
 * drivers and waits for the DHCP lease, so Node's own start (seconds on a slow or emulated CPU) overlaps them,
 * and init creates the marker once the network is up (build/microkernel/rootfs/init).
 */
import { access } from 'node:fs/promises';
import type { AgentLogger } from './logger.ts';

/** The most the agent waits for the marker; init gives up on DHCP after 30 s and creates it anyway. */
export const READY_WAIT_MAX_MS = 60_000;

/** Resolves true once `file` exists (polling every `pollMs`), false after `maxMs` without it. */
export async function waitForFile(file: string, maxMs: number = READY_WAIT_MAX_MS, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    try {
      await access(file);
      return true;
    } catch {
      if (Date.now() >= deadline) return false;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * The most the full inventory waits for init's `drivers-settled` marker (init loads the storage and IPMI drivers in
 * the background beside DHCP; a RAID controller with many disks can scan for a minute).
 */
export const DRIVERS_WAIT_MAX_MS = 120_000;

/**
 * A gate the full inventory passes before its first run: the first call waits for `file` (at most `maxMs`) and logs
 * how long it waited; every later call, and every call when there is no file, resolves at once. The first, fast
 * register never waits: it reads only what /sys has (agent/collect/live.ts `fast`).
 */
export function driversSettledGate(
  file: string | undefined,
  log: AgentLogger,
  maxMs: number = DRIVERS_WAIT_MAX_MS,
  pollMs = 100,
): () => Promise<void> {
  let passed: Promise<void> | null = file === undefined ? Promise.resolve() : null;
  return () =>
    (passed ??= (async () => {
      const t0 = Date.now();
      const ok = await waitForFile(file!, maxMs, pollMs);
      const line = { file, waited_ms: Date.now() - t0 };
      if (ok) log.info(line, 'drivers settled');
      else
        log.warn(
          line,
          `drivers still loading after ${maxMs / 1000} s: the full inventory may miss disks or the BMC; they reach the appliance with a later check-in`,
        );
    })());
}
