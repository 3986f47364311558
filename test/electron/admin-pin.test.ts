/**
 * Electron and an HTTPS admin plane: the shell learns the certificate fingerprint from the
 * real server child's output and trusts exactly that certificate on that host (the verify
 * procedure it installs in the session the window and net.fetch share).
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { ServerChild } from '../../electron/server-child.ts';
import { certFingerprint, pinVerifier } from '../../electron/admin-pin.ts';
import { tmpDir } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

let child: ServerChild | null = null;
afterAll(() => child?.stop());

function peerPem(origin: string): Promise<string> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.toString());
      s.destroy();
    });
    s.once('error', reject);
  });
}

describe('Electron pins the admin certificate', () => {
  it('reads the fingerprint the server prints and accepts only that certificate, only on the admin host', async () => {
    const dataDir = await tmpDir('cc-el-pin-');
    child = new ServerChild({
      nodePath: process.execPath,
      entry: path.join(REPO_ROOT, 'bin', 'crashcart.mjs'),
      serveArgs: ['--data-dir', dataDir, '--admin-listen', '127.0.0.2:0', '--admin-token-required', '--http-port', '0', '--lab', 'off'],
    });
    const s = await child.start();
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.2:\d+\/#login=/);
    const onDisk = certFingerprint(fs.readFileSync(path.join(dataDir, 'tls', 'admin-cert.pem'), 'utf8'));
    expect(child.fingerprint).toBe(onDisk);

    const origin = new URL(s.url!).origin;
    const verify = pinVerifier(origin, child.fingerprint!);
    const verdict = (hostname: string, pem: string) => new Promise<number>((r) => verify({ hostname, certificate: { data: pem } }, r));
    const served = await peerPem(origin);
    expect(await verdict('127.0.0.2', served)).toBe(0);
    // Another certificate on the admin host (a man in the middle) is refused.
    const d = await tmpDir('cc-el-other-');
    spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(d, 'k'),
      '-out',
      path.join(d, 'c'),
      '-days',
      '1',
      '-subj',
      '/CN=mitm',
    ]);
    expect(await verdict('127.0.0.2', fs.readFileSync(path.join(d, 'c'), 'utf8'))).toBe(-2);
    expect(await verdict('127.0.0.2', 'not a certificate')).toBe(-2);
    // Other hosts keep Chromium's own verification.
    expect(await verdict('example.org', served)).toBe(-3);
  });
});
