/**
 * Trust for an HTTPS admin plane (`--admin-listen` beyond loopback): its certificate is
 * self-signed or the operator's, so instead of a CA the window and `net.fetch` accept exactly
 * the certificate whose SHA-256 fingerprint the server child printed, on that host only.
 */
import type * as Electron from 'electron';
import { X509Certificate } from 'node:crypto';

/** SHA-256 fingerprint (colon hex) of a PEM certificate; null if it does not parse. */
export function certFingerprint(pem: string): string | null {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return null;
  }
}

/** Chromium's verdicts for setCertificateVerifyProc: accept, reject, or its own verification. */
const ACCEPT = 0;
const REJECT = -2;
const CHROMIUM = -3;

/** The verify procedure: the admin host must present the pinned certificate; other hosts are Chromium's business. */
export function pinVerifier(
  origin: string,
  fingerprint: string,
): (req: { hostname: string; certificate: { data: string } }, cb: (verdict: number) => void) => void {
  const strip = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();
  const host = strip(new URL(origin).hostname);
  return (req, cb) => {
    if (strip(req.hostname) !== host) return cb(CHROMIUM);
    cb(certFingerprint(req.certificate.data) === fingerprint ? ACCEPT : REJECT);
  };
}

/** Pin the admin certificate in the session the window and net.fetch use. */
export function pinAdminCertificate(session: Electron.Session, origin: string, fingerprint: string): void {
  session.setCertificateVerifyProc(pinVerifier(origin, fingerprint));
}
