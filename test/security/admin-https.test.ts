/**
 * Beyond loopback the admin plane speaks HTTPS only (issue 10 §1): a
 * certificate generated into the data dir on first start, its fingerprint
 * printed, kept across restarts, pinned by the CLI; the cookie is Secure.
 * Runs the real `crashcart serve` on 127.0.0.2 (outside the loopback names
 * --admin-listen accepts without a token) and the real CLI.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { buildRequest, rawRequest } from '../support/raw-http.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const EXPOSED = ['--admin-listen', '127.0.0.2:0', '--admin-token-required'];
const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });

let a: ProcessAppliance;
let authority: string;
beforeAll(async () => {
  a = await spawnAppliance(EXPOSED);
  authority = new URL(a.adminUrl).host;
});
afterAll(async () => {
  await a?.stop();
});

const pinned = () => ({ origin: a.adminUrl, fingerprint: a.fingerprint });

describe('HTTPS admin plane', () => {
  it('generates a certificate into the data dir and prints its SHA-256 fingerprint', async () => {
    expect(a.adminUrl).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    const cert = await fs.readFile(path.join(a.dataDir, 'tls', 'admin-cert.pem'));
    expect(a.fingerprint).toBe(new X509Certificate(cert).fingerprint256);
    expect((await fs.stat(path.join(a.dataDir, 'tls', 'admin-key.pem'))).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(cert).subjectAltName).toContain('IP Address:127.0.0.2');
  });

  it('does not speak plain HTTP on that port', async () => {
    const r = await rawRequest({ origin: a.adminUrl.replace('https:', 'http:') }, buildRequest('GET', '/api/v1/health', authority), 5000);
    expect(r.status).not.toBe(200);
    expect(r.body).not.toContain('"ok":true');
  });

  it('needs credentials over TLS like on loopback; the pinned token works', async () => {
    const token = await a.token();
    expect((await rawRequest(pinned(), buildRequest('GET', '/%61pi/v1/nodes', authority))).status).toBe(401);
    expect((await rawRequest(pinned(), buildRequest('GET', '/api/v1/nodes', authority, { authorization: `Bearer ${token}` }))).status).toBe(
      200,
    );
    expect((await rawRequest(pinned(), buildRequest('GET', '/api/v1/nodes', `evil.example:${new URL(a.adminUrl).port}`))).status).toBe(421);
  });

  it('sets a Secure, __Host- prefixed session cookie', async () => {
    const code = new URL(a.loginUrl).hash.replace('#login=', '');
    const r = await rawRequest(
      pinned(),
      buildRequest(
        'POST',
        '/api/v1/session',
        authority,
        { 'content-type': 'application/json', origin: a.adminUrl },
        JSON.stringify({ code }),
      ),
    );
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toMatch(/^__Host-cc_session=[\w-]+; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });

  it('the CLI finds the appliance, pins its certificate and works through it', async () => {
    const login = cli(['login', '--data-dir', a.dataDir]);
    expect(login.status, login.stderr).toBe(0);
    expect(login.stdout).toMatch(new RegExp(`^Crashcart UI: ${a.adminUrl.replace(/\./g, '\\.')}/#login=[\\w-]+\\n$`));
    const d = await tmpDir('cc-https-img-');
    await fs.writeFile(path.join(d, 'linux'), Buffer.alloc(300_000, 3));
    await fs.writeFile(path.join(d, 'initrd.gz'), Buffer.alloc(7000, 4));
    const imp = cli([
      'image',
      'import',
      '--data-dir',
      a.dataDir,
      '--name',
      'tls-img',
      '--kernel',
      path.join(d, 'linux'),
      '--initrd',
      path.join(d, 'initrd.gz'),
    ]);
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout).toContain(`importing through ${a.adminUrl}`);
    const imgs = await rawRequest(
      pinned(),
      buildRequest('GET', '/api/v1/images', authority, { authorization: `Bearer ${await a.token()}` }),
    );
    expect(imgs.json().images.map((i: { name: string }) => i.name)).toEqual(['tls-img']);
  });

  it('the CLI refuses a certificate other than the pinned one before sending the token', async () => {
    const lock = path.join(a.dataDir, 'crashcart.lock');
    const saved = await fs.readFile(lock, 'utf8');
    const forged = JSON.parse(saved) as { fingerprint: string };
    forged.fingerprint = forged.fingerprint.replace(/^../, forged.fingerprint.startsWith('00') ? '11' : '00');
    await fs.writeFile(lock, JSON.stringify(forged));
    try {
      const r = cli(['login', '--data-dir', a.dataDir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('CC_ERR_TLS_PIN');
      expect(r.stdout).not.toContain('#login=');
    } finally {
      await fs.writeFile(lock, saved);
    }
  });

  it('keeps the same certificate (and fingerprint) across a restart', async () => {
    const before = a.fingerprint;
    await a.stop();
    a = await spawnAppliance(EXPOSED, { dataDir: a.dataDir });
    expect(a.fingerprint).toBe(before);
  });
});

describe('operator certificate', () => {
  it('serves --admin-cert/--admin-key and refuses a key that does not match', async () => {
    const d = await tmpDir('cc-cert-');
    for (const n of ['one', 'two'])
      spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(d, `${n}.key`),
        '-out',
        path.join(d, `${n}.pem`),
        '-days',
        '2',
        '-subj',
        `/CN=${n}`,
      ]);
    const own = await spawnAppliance([...EXPOSED, '--admin-cert', path.join(d, 'one.pem'), '--admin-key', path.join(d, 'one.key')]);
    try {
      expect(own.fingerprint).toBe(new X509Certificate(await fs.readFile(path.join(d, 'one.pem'))).fingerprint256);
      await expect(fs.access(path.join(own.dataDir, 'tls'))).rejects.toThrow();
    } finally {
      await own.stop();
    }
    const bad = cli([
      'serve',
      '--data-dir',
      d,
      '--lab',
      'off',
      ...EXPOSED,
      '--admin-cert',
      path.join(d, 'one.pem'),
      '--admin-key',
      path.join(d, 'two.key'),
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('CC_ERR_TLS');
    expect(bad.stderr).toContain('fix:');
  });
});
