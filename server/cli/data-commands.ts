/**
 * CLI commands that change data: `image import`, `microkernel import`,
 * `token --rotate`, and `login`. Each writes into the data dir itself when no
 * appliance runs on it, else goes through the running appliance's admin API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ccError } from '../errors/cc-error.ts';
import { openStore } from '../store/store.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { importImageFromPaths } from '../images/image-store.ts';
import {
  MICROKERNEL_FILES,
  clearMicrokernelStaging,
  installStagedMicrokernel,
  stageMicrokernelFile,
  type MicrokernelFile,
} from '../images/microkernel-install.ts';
import { ensureAdminToken, rotateAdminToken } from '../http/admin-auth.ts';
import type { AdminClient } from './admin-client.ts';
import { routeWrites, runningAppliance } from './data-dir-route.ts';
import { progressBar } from './progress.ts';

const out = (s: string) => process.stdout.write(s + '\n');

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .once('end', () => resolve(h.digest('hex')))
      .once('error', reject);
  });
}

/** Upload one file through the API and check the appliance hashed the same bytes. */
async function upload(client: AdminClient, url: string, file: string, label: string): Promise<{ sha256: string }> {
  const size = fs.statSync(file).size;
  const bar = progressBar(label);
  let last = -1;
  const report = (n: number) => {
    if (n === size || n - last >= 4 << 20) {
      last = n;
      bar(path.basename(file), n, size);
    }
  };
  const [want, got] = await Promise.all([
    sha256Of(file),
    client.call<{ sha256?: string; files?: { name: string; sha256: string }[] }>('PUT', url, {
      stream: fs.createReadStream(file),
      length: size,
      onBytes: report,
    }),
  ]);
  const sha = got.sha256 ?? got.files?.find((f) => url.endsWith(`/${f.name}`))?.sha256;
  if (sha !== want) throw ccError('CC_ERR_IMAGE_IMPORT', `${file}: the appliance stored sha256 ${sha}, the file has ${want}`);
  return { sha256: want };
}

/** `crashcart image import --name NAME (--kernel F --initrd F | --iso F)`. */
export async function imageImport(dataDir: string, name: string, files: string[]): Promise<void> {
  for (const f of files) if (!fs.existsSync(f)) throw ccError('CC_ERR_IMAGE_IMPORT', `cannot read ${f}`);
  const route = await routeWrites(dataDir, () => openStore(dataDir, 0, 'crashcart image import'));
  if ('remote' in route) {
    out(`an appliance runs on ${dataDir}: importing through ${route.remote.baseUrl}`);
    for (const f of files)
      await upload(
        route.remote,
        `/api/v1/images/${encodeURIComponent(name)}/files/${encodeURIComponent(path.basename(f))}`,
        f,
        `importing ${name}:`,
      );
    const { images } = await route.remote.call<{ images: { name: string; files: { name: string; size: number; sha256: string }[] }[] }>(
      'GET',
      '/api/v1/images',
    );
    const doc = images.find((i) => i.name === name)!;
    out(`image ${doc.name}: ${doc.files.map((f) => `${f.name} ${f.size} B sha256 ${f.sha256.slice(0, 16)}`).join(', ')}`);
    return;
  }
  const store = route.local;
  try {
    const doc = await importImageFromPaths(
      store.images,
      dataDir,
      name,
      files.map((f) => ({ file: path.basename(f), from: f })),
      progressBar(`importing ${name}:`),
    );
    out(`image ${doc.name}: ${doc.files.map((f) => `${f.name} ${f.size} B sha256 ${f.sha256.slice(0, 16)}`).join(', ')}`);
  } finally {
    await store.close();
  }
}

/** `crashcart microkernel import DIR`. */
export async function microkernelImport(dataDir: string, from: string): Promise<void> {
  const present = MICROKERNEL_FILES.filter((f) => fs.existsSync(path.join(from, f)));
  for (const need of ['vmlinuz', 'initrd.img'] as const)
    if (!present.includes(need))
      throw ccError(
        'CC_ERR_CONFIG_INVALID',
        `${path.join(from, need)} is missing; point at the folder \`npm run build:microkernel\` writes (build/out/microkernel)`,
      );
  const route = await routeWrites(dataDir, () => lockDataDir(dataDir, 'crashcart microkernel import'));
  if ('remote' in route) {
    out(`an appliance runs on ${dataDir}: installing through ${route.remote.baseUrl}`);
    for (const f of present) await upload(route.remote, `/api/v1/microkernel/staging/${f}`, path.join(from, f), 'microkernel:');
    const r = await route.remote.call<{ dir: string; version: string }>('POST', '/api/v1/microkernel/install', {
      json: { files: present },
    });
    out(`microkernel ${r.version} installed in ${r.dir}`);
    return;
  }
  try {
    await clearMicrokernelStaging(dataDir);
    const bar = progressBar('microkernel:');
    for (const f of present) {
      const size = fs.statSync(path.join(from, f)).size;
      await stageMicrokernelFile(dataDir, f as MicrokernelFile, fs.createReadStream(path.join(from, f)), (n) => bar(f, n, size));
    }
    out(`microkernel installed in ${await installStagedMicrokernel(dataDir, present)}`);
  } finally {
    await route.local.release();
  }
}

/** `crashcart token [--rotate]`: print the token; --rotate signs out everywhere first. */
export async function tokenCommand(dataDir: string, rotate: boolean): Promise<void> {
  if (rotate) {
    const route = await routeWrites(dataDir, () => lockDataDir(dataDir, 'crashcart token --rotate'));
    if ('remote' in route) {
      const r = await route.remote.call<{ sessions_ended: number }>('POST', '/api/v1/session/revoke-all', { json: {} });
      process.stderr.write(`signed out everywhere: ${r.sessions_ended} session(s) ended, token rotated\n`);
    } else {
      try {
        await rotateAdminToken(dataDir);
        process.stderr.write('token rotated\n');
      } finally {
        await route.local.release();
      }
    }
  }
  out(await ensureAdminToken(dataDir));
}

/** `crashcart login`: a fresh one-time sign-in link from the running appliance. */
export async function loginCommand(dataDir: string): Promise<void> {
  const client = await runningAppliance(dataDir);
  const r = await client.call<{ url: string; expires_in_s: number }>('POST', '/api/v1/session/login-code', { json: {} });
  out(`Crashcart UI: ${r.url}`);
  process.stderr.write(`(one use, valid for ${Math.round(r.expires_in_s / 60)} minutes)\n`);
}
