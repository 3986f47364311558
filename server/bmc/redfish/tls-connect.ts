/**
 * Open a TLS connection to a BMC and apply its certificate policy BEFORE a
 * single byte of the request (which carries the credentials) is written:
 * - verify: the system CAs (or `ca`) and the host name, as any HTTPS client;
 * - pin: trust on first use. With no fingerprint stored, the leaf's SHA-256 is
 *   reported through `onPinned` for the caller to store; with one stored, a
 *   different certificate is refused (CC_ERR_BMC_TLS_CHANGED);
 * - skip: anything (the operator chose it).
 */
import tls from 'node:tls';
import net from 'node:net';
import { ccError, CcError } from '../../errors/cc-error.ts';
import type { TlsPolicy } from '../../../contract/index.ts';

/** Where and how to connect. */
export interface TlsTarget {
  host: string;
  port: number;
  policy: TlsPolicy;
  /** Pinned leaf fingerprint (`AB:CD:...`, as Node prints `fingerprint256`), or null. */
  fingerprint: string | null;
  /** Extra trusted CA certificates (PEM) for `verify`. */
  ca?: string;
  /** Called once with the leaf fingerprint when `pin` had none stored. */
  onPinned?: (fingerprint: string) => void;
}

/** Node's TLS verification failures: the peer answered but its certificate is not trusted. */
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;
/** Network failures before anything was sent. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** Normalise a fingerprint for comparison (case, separators). */
export function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/** Map a socket error (before or during the exchange) to a catalog error. */
export function socketError(e: unknown, where: string): CcError {
  if (e instanceof CcError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.test(code)) return ccError('CC_ERR_BMC_TLS_UNTRUSTED', `${where}: ${code}: ${(e as Error).message}`);
  if (UNREACHABLE.has(code)) return ccError('CC_ERR_BMC_UNREACHABLE', `${where}: ${code}`);
  if (/^ERR_SSL|EPROTO/.test(code)) return ccError('CC_ERR_BMC_PROTOCOL', `${where}: TLS failed: ${(e as Error).message}`);
  return ccError('CC_ERR_BMC_UNREACHABLE', `${where}: ${(e as Error).message}`);
}

/** Connect and check the certificate; resolves with a socket nothing was written to yet. Destroyed on `signal` abort. */
export function connectTls(t: TlsTarget, signal: AbortSignal): Promise<tls.TLSSocket> {
  const where = `Redfish BMC ${t.host}:${t.port}`;
  return new Promise((resolve, reject) => {
    const sock = tls.connect({
      host: t.host,
      port: t.port,
      // SNI only for names (RFC 6066 3: literal IP addresses are not permitted in server_name).
      ...(net.isIP(t.host) ? {} : { servername: t.host }),
      rejectUnauthorized: t.policy === 'verify',
      ...(t.ca ? { ca: t.ca } : {}),
      ALPNProtocols: ['http/1.1'],
    });
    const fail = (e: unknown) => {
      sock.destroy();
      reject(socketError(e, where));
    };
    const onAbort = () => fail(ccError('CC_ERR_BMC_TIMEOUT', `${where}: no TLS handshake in time`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('error', fail);
    sock.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      sock.removeListener('error', fail);
      if (t.policy === 'pin') {
        const seen = sock.getPeerCertificate().fingerprint256;
        if (!seen) return fail(ccError('CC_ERR_BMC_PROTOCOL', `${where}: the BMC presented no certificate`));
        if (t.fingerprint && normaliseFingerprint(t.fingerprint) !== normaliseFingerprint(seen))
          return fail(
            ccError('CC_ERR_BMC_TLS_CHANGED', `${where}: pinned ${t.fingerprint}, now presents ${seen}`, {
              expected: t.fingerprint,
              presented: seen,
            }),
          );
        if (!t.fingerprint) t.onPinned?.(seen);
      }
      resolve(sock);
    });
  });
}
