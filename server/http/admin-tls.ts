/**
 * HTTPS for an admin plane that listens beyond loopback (issue 10 §1): the
 * operator's certificate (--admin-cert/--admin-key), or a self-signed one made
 * on first start into `<dataDir>/tls/`. node:crypto cannot issue X.509, so the
 * `openssl` command (Debian package openssl) makes it; clients pin its SHA-256
 * fingerprint, which `serve` prints, so no CA is involved. The certificate is
 * kept across restarts (a new one would break every pin): delete the folder to
 * get a new one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promisify } from 'node:util';
import type { Config } from '../config/schema.ts';
import { ccError } from '../errors/cc-error.ts';
import { fsyncDir, renameDurably } from '../store/durable-file.ts';

/** The certificate and key the admin plane serves, and the fingerprint clients pin. */
export interface AdminTls {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 of the DER certificate, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint: string;
  certFile: string;
}

/** Folder of the generated certificate in the data dir. */
export const TLS_DIR = 'tls';
/** Ten years: a pinned self-signed certificate is trusted by fingerprint, not by date. */
const SELF_SIGNED_DAYS = 3650;

const run = promisify(execFile);

async function readPair(certFile: string, keyFile: string): Promise<AdminTls> {
  const [cert, key] = await Promise.all([fs.readFile(certFile), fs.readFile(keyFile)]);
  const x = new X509Certificate(cert);
  if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error(`${keyFile} is not the key of ${certFile}`);
  return { cert, key, fingerprint: x.fingerprint256, certFile };
}

/** Subject alternative names: loopback, the listen address and every --admin-hostname. */
function subjectAltNames(admin: Config['admin']): string {
  const ips = new Set(['127.0.0.1', '::1']);
  if (net.isIP(admin.host) && admin.host !== '0.0.0.0' && admin.host !== '::') ips.add(admin.host);
  return ['DNS:localhost', ...admin.hostnames.map((h) => `DNS:${h}`), ...[...ips].map((i) => `IP:${i}`)].join(',');
}

async function generate(dir: string, admin: Config['admin']): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await fs.mkdtemp(path.join(dir, '.new-'));
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(tmp, 'admin-key.pem'),
        '-out',
        path.join(tmp, 'admin-cert.pem'),
        '-days',
        String(SELF_SIGNED_DAYS),
        '-subj',
        '/CN=Crashcart admin plane',
        '-addext',
        `subjectAltName=${subjectAltNames(admin)}`,
      ],
      { timeout: 30_000 },
    );
    for (const f of ['admin-key.pem', 'admin-cert.pem']) {
      const h = await fs.open(path.join(tmp, f), 'r');
      await h.chmod(0o600);
      await h.sync();
      await h.close();
    }
    // Key first: a crash between the two renames leaves a key without a certificate, which is regenerated.
    await renameDurably(path.join(tmp, 'admin-key.pem'), path.join(dir, 'admin-key.pem'));
    await renameDurably(path.join(tmp, 'admin-cert.pem'), path.join(dir, 'admin-cert.pem'));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
    await fsyncDir(dir).catch(() => undefined);
  }
}

/** The admin plane's TLS material for this config, or null for plain HTTP on loopback. */
export async function loadAdminTls(config: Config): Promise<AdminTls | null> {
  const t = config.admin.tls;
  if (!t) return null;
  if (t.cert && t.key) {
    try {
      return await readPair(t.cert, t.key);
    } catch (e) {
      throw ccError('CC_ERR_TLS', `--admin-cert/--admin-key: ${(e as Error).message}`);
    }
  }
  const dir = path.join(config.dataDir, TLS_DIR);
  const cert = path.join(dir, 'admin-cert.pem');
  const key = path.join(dir, 'admin-key.pem');
  try {
    return await readPair(cert, key);
  } catch {
    // Not there yet (or half there): make a new pair.
  }
  try {
    await generate(dir, config.admin);
    return await readPair(cert, key);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw ccError('CC_ERR_TLS', err.code === 'ENOENT' ? 'the `openssl` command is not installed' : err.message);
  }
}
