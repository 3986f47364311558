/**
 * Data dirs and bundles for the bundle tests: a prepared data dir (the pinned loaders this checkout
 * holds, a small microkernel whose manifest records its digests, an image, tags, tasks, policies,
 * settings, a node with a BMC), hand-made bundles for the attacks, and a snapshot of everything an
 * import could change, to prove a refused import wrote nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { openStore } from '../../server/store/store.ts';
import { importImageFromPaths } from '../../server/images/image-store.ts';
import { TagService } from '../../server/tags/tag-service.ts';
import { TaskService } from '../../server/tasks/task-service.ts';
import { PolicyService } from '../../server/policies/policy-service.ts';
import { SettingsService } from '../../server/settings/settings-service.ts';
import type { Catalog } from '../../server/bundle/store-data.ts';
import { encodeArchive, type TarEntry } from '../../server/bundle/ustar.ts';
import { fileHeader } from '../../server/bundle/tar-io.ts';
import { tmpDir } from '../support/appliance.ts';

/** The pinned loaders a checkout holds after scripts/fetch-ipxe.sh (ensure-test-deps). */
export const SHIPPED_LOADERS = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'];

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The services over an open store (what `bundle` uses on a held data dir). */
export async function catalogOf(dataDir: string) {
  const store = await openStore(dataDir, 0, 'test');
  const c: Catalog = {
    store,
    tags: await TagService.open(store.tags),
    tasks: await TaskService.open(store.tasks),
    policies: await PolicyService.open(store.policies),
    settings: await SettingsService.open(store.settings, ''),
  };
  return { c, close: () => store.close() };
}

/** A microkernel folder whose manifest records the sha256 of its files. */
export async function writeMicrokernel(dir: string, version: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const k = Buffer.alloc(40_000, 7);
  const i = Buffer.alloc(90_000, 9);
  await fs.writeFile(path.join(dir, 'vmlinuz'), k);
  await fs.writeFile(path.join(dir, 'initrd.img'), i);
  const files = { vmlinuz: { bytes: k.length, sha256: sha(k) }, 'initrd.img': { bytes: i.length, sha256: sha(i) } };
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ version, files }));
}

/** A data dir with something of every kind a bundle carries. */
export async function preparedDataDir(): Promise<string> {
  const d = await tmpDir('cc-bundle-src-');
  await fs.mkdir(path.join(d, 'loaders'));
  for (const f of SHIPPED_LOADERS) {
    const from = path.join(REPO_ROOT, 'resources', 'ipxe', f);
    await fs.copyFile(from, path.join(d, 'loaders', f)).catch(() => {
      throw new Error(`${from} is missing\n  fix: bash scripts/ensure-test-deps.sh (it fetches the pinned loaders)`);
    });
  }
  await writeMicrokernel(path.join(d, 'microkernel', 'amd64'), 'bundle-test-1');
  const files = await tmpDir('cc-bundle-files-');
  await fs.writeFile(path.join(files, 'linux'), Buffer.alloc(70_000, 1));
  await fs.writeFile(path.join(files, 'initrd.gz'), Buffer.alloc(30_000, 2));
  await fs.writeFile(path.join(d, 'secrets.key'), Buffer.alloc(64, 0x5a), { mode: 0o600 });
  const { c, close } = await catalogOf(d);
  try {
    await importImageFromPaths(c.store.images, d, 'debian12', [
      { file: 'linux', from: path.join(files, 'linux') },
      { file: 'initrd.gz', from: path.join(files, 'initrd.gz') },
    ]);
    // "racks" refers to "big": the import must put "big" first.
    await c.tags.put({ name: 'big', rule: ['>', ['num', ['fact', 'memorysize_mb']], 1000], description: 'lots of memory' }, true);
    await c.tags.put({ name: 'racks', rule: ['tag', 'big'] }, true);
    await c.tasks.put({ name: 'hello', ipxe: '#!ipxe\necho hello ${node.id}\n', templates: { 'note.txt': 'node ${node.id}' } }, true);
    await c.policies.put(
      {
        name: 'install',
        task: 'hello',
        tags: ['racks'],
        image: 'debian12',
        root_password_hash: '$6$salt$hash',
        ssh_keys: ['ssh-ed25519 AAAA test'],
      },
      true,
      (x) => x,
    );
    await c.settings.patch({ checkin_interval_s: 17 });
    const now = new Date().toISOString();
    await c.store.nodes.put({
      _id: '1',
      id: 1,
      state: 'registered',
      hostname: null,
      macs: ['52:54:00:00:00:01'],
      boot_mac: '52:54:00:00:00:01',
      uuid: null,
      serial: 'SER1',
      manufacturer: null,
      product: null,
      arch: null,
      platform: null,
      boot_mode: null,
      ip: null,
      tags: [],
      policy: null,
      bound_explicitly: false,
      efi_loader: null,
      facts_hash: null,
      agent_token_hash: 'f'.repeat(64),
      enrol_token_hash: null,
      pending_command: null,
      created_at: now,
      registered_at: now,
      last_seen: now,
      summary: {
        cpu_model: null,
        cpu_count: null,
        memory_mb: null,
        disk_count: null,
        disk_total_bytes: null,
        nic_count: null,
        bmc_ip: null,
      },
      metadata: {},
      bmc: {
        driver: 'ipmi',
        address: '10.0.0.9',
        port: 623,
        username: 'admin',
        password_enc: 'ccs1:sealed',
        system_path: null,
        tls: 'pin',
        tls_fingerprint: null,
        ipmi_cipher_suite: null,
      },
      // The password the agent set at in-band enrolment, sealed like the BMC's.
      bmc_enrolment: {
        state: 'enrolled',
        address: '10.0.0.9',
        username: 'admin',
        password_enc: 'ccs1:enrolment-sealed',
        channel: 1,
        user_id: 3,
        mac: null,
        reason: null,
        at: now,
      },
      // An install in progress: its token's hash would still be accepted for a day.
      install_token_hash: 'e'.repeat(64),
      install_token_expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await c.store.facts.put({ _id: '1', facts: { memorysize_mb: 4096 }, inventory: null, updated_at: now });
  } finally {
    await close();
  }
  return d;
}

/** A bundle made by hand: `manifest` (an object or raw text) first, then the members as given. */
export function craftBundle(
  manifest: unknown,
  members: { path: string; data: Uint8Array | string; typeflag?: string; linkname?: string }[],
): Uint8Array {
  const m = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  const entries: TarEntry[] = [
    { header: fileHeader('manifest.json', Buffer.byteLength(m), 1_700_000_000), data: new Uint8Array(Buffer.from(m)) },
  ];
  for (const x of members) {
    const data = typeof x.data === 'string' ? new Uint8Array(Buffer.from(x.data)) : x.data;
    const h = fileHeader(x.path, data.length, 1_700_000_000);
    entries.push({ header: { ...h, typeflag: x.typeflag ?? '0', linkname: x.linkname ?? '' }, data });
  }
  return encodeArchive(entries);
}

/** A valid manifest for `members`. */
export function manifestFor(members: { path: string; data: Uint8Array | string }[], contents = { nodes: false, secrets: false }) {
  return {
    format: 'crashcart-bundle',
    version: 1,
    created_at: '2024-01-01T00:00:00.000Z',
    crashcart: '0.1.0',
    contents,
    files: members.map((x) => {
      const d = typeof x.data === 'string' ? Buffer.from(x.data) : Buffer.from(x.data);
      return { path: x.path, bytes: d.length, sha256: sha(d) };
    }),
  };
}

/** Every file in `dir` outside db/ and the lock, with its sha256: what an import could change on disk. */
export async function fileSnapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (rel === 'db' || rel === 'crashcart.lock') continue;
      if (e.isDirectory()) await walk(p);
      else out[rel] = e.isFile() ? sha(await fs.readFile(p)) : `(${e.isSymbolicLink() ? 'symlink' : 'special'})`;
    }
  };
  await walk(dir);
  return out;
}

/** What the store holds, as the services see it. */
export async function storeSnapshot(dataDir: string) {
  const { c, close } = await catalogOf(dataDir);
  try {
    return {
      tags: c.tags.list().map((t) => t.name),
      tasks: c.tasks.list().map((t) => t.name),
      policies: c.policies.list().map((p) => p.name),
      settings: { ...c.settings.get() },
      images: (await c.store.images.find({})).map((i) => i.name),
      nodes: await c.store.nodes.count({}),
    };
  } finally {
    await close();
  }
}
