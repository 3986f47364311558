/** Self-signed certificates for the Redfish peers, made with Debian's openssl (a BMC's certificate looks like this). */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { requireProgram } from './tools.ts';

/** One certificate and key on disk. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  pem: string;
  /** SHA-256 fingerprint as Node prints it (`AB:CD:...`), computed independently of the code under test. */
  fingerprint: string;
}

/** A P-256 self-signed certificate for 127.0.0.1 (IP SAN, so `verify` with it as CA can succeed). */
export function makeCert(dir: string, name: string): TestCert {
  const openssl = requireProgram('openssl', 'openssl');
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pem = fs.readFileSync(certFile, 'utf8');
  return { certFile, keyFile, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}
