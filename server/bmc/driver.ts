/**
 * The one BMC driver interface. IPMI (ipmitool) and Redfish (native HTTPS)
 * implement it; a vendor driver is one more implementation registered in
 * `drivers.ts`. Every method has a timeout and fails only with a CcError
 * carrying a CC_ERR_BMC_* / CC_ERR_IPMITOOL_MISSING code and the fix.
 */
import type { BmcDriverKind, BmcIdentity, BootDevice, BootMode, PowerAction, PowerState, TlsPolicy } from '../../contract/index.ts';
import * as D from '../config/defaults.ts';

/** Everything a driver needs to reach one BMC, password in clear (opened from its envelope just before use). */
export interface BmcTarget {
  driver: BmcDriverKind;
  address: string;
  port: number;
  username: string;
  password: string;
  /** Redfish: the system resource; null = find it in /redfish/v1/Systems. */
  system_path: string | null;
  tls: TlsPolicy;
  /** Redfish with tls "pin": the pinned leaf certificate's SHA-256 (null = not pinned yet, pin on first use). */
  tls_fingerprint: string | null;
  /** IPMI: cipher suite for `ipmitool -C`; null = DEFAULT_IPMI_CIPHER_SUITE. */
  ipmi_cipher_suite: number | null;
}

/** Next-boot override. */
export interface BootRequest {
  device: BootDevice;
  /** false = next boot only (IPMI "valid for next boot", Redfish "Once"); true = every boot (Continuous). */
  persistent: boolean;
  /** UEFI or legacy; absent = the firmware's own mode (IPMI: no efiboot flag; Redfish: no BootSourceOverrideMode). */
  mode?: BootMode;
}

/** What a power action or status read left: the state the BMC reports afterwards, and what the operator should know. */
export interface PowerOutcome {
  power: PowerState;
  warnings: string[];
}

/** What a reachability and credentials check found. */
export interface ProbeOutcome {
  power: PowerState;
  /** Facts the BMC told about itself (firmware, manufacturer, Redfish version, system path...). */
  info: Record<string, string>;
  warnings: string[];
}

/** The machine's identifiers as its BMC gave them (not yet canonical: the caller checks them), and what is missing. */
export interface IdentityOutcome extends BmcIdentity {
  warnings: string[];
}

/** One BMC. */
export interface BmcDriver {
  readonly kind: BmcDriverKind;
  /** Check the BMC answers and accepts the credentials; reads the power state. */
  probe(): Promise<ProbeOutcome>;
  /** Run a power action (see PowerAction) or read the state (`status`). */
  power(action: PowerAction): Promise<PowerOutcome>;
  /** Read the machine's identifiers (UUID, serial, host NIC MACs) so the record made for it can be claimed. */
  identity(): Promise<IdentityOutcome>;
  /** Set the next boot device; CC_ERR_BMC_REFUSED when the BMC does not offer it. */
  setBootDevice(req: BootRequest): Promise<{ warnings: string[] }>;
  /** Release what the driver holds (a Redfish session); never throws. */
  close(): Promise<void>;
}

/** Timeouts and pacing of one driver; every field in milliseconds except `retries`. */
export interface BmcTimings {
  requestTimeoutMs: number;
  softOffTimeoutMs: number;
  /** How long a forced transition (ForceOff) may take to show in the reported state. */
  transitionTimeoutMs: number;
  pollMs: number;
  retries: number;
}

/** The defaults (server/config/defaults.ts), in milliseconds. */
export const DEFAULT_TIMINGS: Readonly<BmcTimings> = Object.freeze({
  requestTimeoutMs: D.DEFAULT_BMC_REQUEST_TIMEOUT_S * 1000,
  softOffTimeoutMs: D.DEFAULT_SOFT_OFF_TIMEOUT_S * 1000,
  transitionTimeoutMs: D.DEFAULT_BMC_TRANSITION_S * 1000,
  pollMs: D.DEFAULT_BMC_POLL_S * 1000,
  retries: D.DEFAULT_BMC_RETRIES,
});

/** A sleep the drivers wait with (injected so tests and callers can cancel or shorten it). */
export type Sleep = (ms: number) => Promise<void>;

/** The real sleep. */
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until `read()` reports `want` or `timeoutMs` passes; returns the last state read. */
export async function waitForPower(
  read: () => Promise<PowerState>,
  want: PowerState,
  timeoutMs: number,
  pollMs: number,
  sleep: Sleep,
): Promise<PowerState> {
  // Count polls rather than read a clock: the wait is bounded even if the clock jumps.
  const rounds = Math.max(1, Math.ceil(timeoutMs / Math.max(1, pollMs)));
  let state = await read();
  for (let i = 0; i < rounds && state !== want; i++) {
    await sleep(pollMs);
    state = await read();
  }
  return state;
}
