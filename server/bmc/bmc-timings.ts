/** Driver timings and bulk pacing from the run-time settings (docs/bmc.md "Timeouts"). Pure. */
import type { Settings } from '../settings/settings-service.ts';
import { DEFAULT_TIMINGS, type BmcTimings } from './driver.ts';

/** The drivers' timings for the current settings; `retries` overrides the default (the poller reads once). */
export function bmcTimings(s: Readonly<Settings>, retries?: number): BmcTimings {
  return {
    ...DEFAULT_TIMINGS,
    requestTimeoutMs: s.bmc_request_timeout_s * 1000,
    softOffTimeoutMs: s.soft_off_timeout_s * 1000,
    ...(retries === undefined ? {} : { retries }),
  };
}

/** Concurrency and stagger of a bulk action for the current settings. */
export function bulkPacing(s: Readonly<Settings>): { concurrency: number; staggerMs: number } {
  return { concurrency: Math.max(1, s.bmc_concurrency), staggerMs: s.power_stagger_s * 1000 };
}
