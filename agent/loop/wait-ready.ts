/**
 * Wait for a marker file before the first call: the microkernel starts the agent while its init still loads
 * drivers and waits for the DHCP lease, so Node's own start (seconds on a slow or emulated CPU) overlaps them,
 * and init creates the marker once the network is up (build/microkernel/rootfs/init).
 */
import { access } from 'node:fs/promises';

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
