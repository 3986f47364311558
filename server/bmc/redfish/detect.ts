/**
 * Is there a Redfish service at this BMC address? `GET /redfish/v1/` needs no
 * credentials (DSP0266 13.3.1: the service root is readable unauthenticated),
 * so detection sends none. The certificate's fingerprint is reported, so the
 * first contact can be the pin (trust on first use).
 */
import { RedfishHttp } from './http-client.ts';
import { obj, str } from './answers.ts';
import { realSleep, type Sleep } from '../driver.ts';
import { CcError } from '../../errors/cc-error.ts';

/** Redfish found, with what the service root says. */
export interface RedfishFound {
  redfish: true;
  version: string;
  uuid: string | null;
  vendor: string | null;
  product: string | null;
  /** SHA-256 of the leaf certificate presented. */
  tls_fingerprint: string | null;
}

/** No Redfish here, and why (no answer, not HTTPS, not a Redfish service root). */
export interface RedfishAbsent {
  redfish: false;
  reason: string;
}

/** Probe `address:port` (443 by default) for a Redfish service root. */
export async function detectRedfish(
  address: string,
  opts: { port?: number; timeoutMs: number; sleep?: Sleep },
): Promise<RedfishFound | RedfishAbsent> {
  let fingerprint: string | null = null;
  const http = new RedfishHttp({
    tls: { host: address, port: opts.port ?? 443, policy: 'pin', fingerprint: null, onPinned: (fp) => (fingerprint = fp) },
    timeoutMs: opts.timeoutMs,
    retries: 0,
    sleep: opts.sleep ?? realSleep,
  });
  try {
    const a = await http.request({ method: 'GET', path: '/redfish/v1/' });
    const root = obj(a.json);
    const version = str(root['RedfishVersion']);
    if (a.status !== 200 || !version)
      return { redfish: false, reason: `GET /redfish/v1/ answered HTTP ${a.status} without a RedfishVersion` };
    const s = (v: unknown) => str(v)?.slice(0, 200) ?? null;
    return {
      redfish: true,
      version: version.slice(0, 32),
      uuid: s(root['UUID']),
      vendor: s(root['Vendor']),
      product: s(root['Product']),
      tls_fingerprint: fingerprint,
    };
  } catch (e) {
    if (e instanceof CcError) return { redfish: false, reason: `${e.code}: ${e.message}` };
    throw e;
  }
}
