/**
 * The driver registry: one constructor per BMC kind. A vendor driver (e.g. an
 * OEM Redfish dialect) is added here and nowhere else.
 */
import type { BmcDriverKind } from '../../contract/index.ts';
import { DEFAULT_TIMINGS, realSleep, type BmcDriver, type BmcTarget, type BmcTimings, type Sleep } from './driver.ts';
import { IpmiDriver, type IpmiDeps } from './ipmi/ipmi-driver.ts';
import { RedfishDriver, type RedfishDeps } from './redfish/redfish-driver.ts';

/** What any driver may be given; each takes the parts it uses. */
export interface DriverDeps {
  timings?: Partial<BmcTimings>;
  sleep?: Sleep;
  ipmitool?: IpmiDeps['ipmitool'];
  redfishAuth?: RedfishDeps['auth'];
  ca?: string;
  /** Trust on first use pinned a certificate: store it on the node and emit `bmc.tls_pinned`. */
  onPinned?: (fingerprint: string) => void;
}

type Factory = (t: BmcTarget, timings: BmcTimings, sleep: Sleep, deps: DriverDeps) => BmcDriver;

const FACTORIES: Record<BmcDriverKind, Factory> = {
  ipmi: (t, timings, sleep, d) => new IpmiDriver(t, { timings, sleep, ipmitool: d.ipmitool }),
  redfish: (t, timings, sleep, d) => new RedfishDriver(t, { timings, sleep, onPinned: d.onPinned, auth: d.redfishAuth, ca: d.ca }),
};

/** Default port per kind: RMCP+ 623/udp (IPMI 2.0 13.1), HTTPS 443. */
export const DEFAULT_BMC_PORT: Record<BmcDriverKind, number> = { ipmi: 623, redfish: 443 };

/** Build the driver for one BMC. */
export function createDriver(t: BmcTarget, deps: DriverDeps = {}): BmcDriver {
  return FACTORIES[t.driver](t, { ...DEFAULT_TIMINGS, ...deps.timings }, deps.sleep ?? realSleep, deps);
}
