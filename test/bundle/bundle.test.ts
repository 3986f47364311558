/**
 * Bundles: a prepared data dir exported and imported into an empty one keeps everything a rack needs
 * (loaders, microkernel, image and its record, tags in dependency order, tasks, policies, settings);
 * nodes and secrets only when asked. A hostile bundle is an attack: each one below is refused with
 * its code, and the target is byte-for-byte and record-for-record unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { exportBundleToFile } from '../../server/bundle/export.ts';
import { importBundle } from '../../server/bundle/import.ts';
import { decodeArchive } from '../../server/bundle/ustar.ts';
import { HashCache } from '../../server/prepare/inventory/hash-cache.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { tmpDir } from '../support/appliance.ts';
import { catalogOf, craftBundle, fileSnapshot, manifestFor, preparedDataDir, storeSnapshot, writeMicrokernel } from './support.ts';

let src = '';
let work = '';
beforeAll(async () => {
  src = await preparedDataDir();
  work = await tmpDir('cc-bundle-work-');
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function exportFrom(dataDir: string, file: string, o: { withNodes?: boolean; withSecrets?: boolean } = {}) {
  const { c, close } = await catalogOf(dataDir);
  try {
    return await exportBundleToFile(
      file,
      { dataDir, catalog: c, hashes: new HashCache() },
      { withNodes: false, withSecrets: false, now: new Date(), ...o },
    );
  } finally {
    await close();
  }
}

async function importInto(dataDir: string, file: string) {
  const { c, close } = await catalogOf(dataDir);
  try {
    return await importBundle(file, { dataDir, catalog: c, nodesAllowed: true, freeBytes: async () => 1e12 });
  } finally {
    await close();
  }
}

describe('export and import', () => {
  it('carries loaders, microkernel, images and the catalog into an empty data dir; no nodes, no secrets', async () => {
    const file = path.join(work, 'plain.tar');
    const r = await exportFrom(src, file);
    const names = decodeArchive(new Uint8Array(await fs.readFile(file))).map((e) => e.header.path);
    expect(names[0]).toBe('manifest.json');
    expect(names).toEqual(
      expect.arrayContaining(['loaders/undionly.kpxe', 'microkernel/amd64/initrd.img', 'images/debian12/linux', 'store/policies.json']),
    );
    expect(names.filter((n) => n.startsWith('store/nodes') || n.startsWith('secrets/'))).toEqual([]);
    expect(r.manifest.contents).toEqual({ nodes: false, secrets: false });

    const dst = await tmpDir('cc-bundle-dst-');
    const rep = await importInto(dst, file);
    expect(rep.loaders.sort()).toEqual(['ipxe.efi', 'snponly.efi', 'undionly.kpxe']);
    expect(rep.microkernels).toEqual(['amd64']);
    for (const f of ['loaders/ipxe.efi', 'microkernel/amd64/vmlinuz', 'microkernel/amd64/manifest.json', 'images/debian12/linux'])
      expect(await fs.readFile(path.join(dst, f))).toEqual(await fs.readFile(path.join(src, f)));
    const s = await storeSnapshot(dst);
    expect(s).toMatchObject({ tags: ['big', 'racks'], policies: ['install'], images: ['debian12'], nodes: 0 });
    expect(s.tasks).toContain('hello');
    expect(s.settings.checkin_interval_s).toBe(17);
    const { c, close } = await catalogOf(dst);
    try {
      // The password hash is a secret: it stays home unless asked for.
      expect(c.policies.get('install')).toMatchObject({ image: 'debian12', ssh_keys: ['ssh-ed25519 AAAA test'], root_password_hash: null });
    } finally {
      await close();
    }
    await expect(fs.access(path.join(dst, 'secrets.key'))).rejects.toThrow();
  });

  it('--with-nodes --with-secrets carries nodes (without their tokens) and the key; a rerun into the same dir is refused', async () => {
    const file = path.join(work, 'full.tar');
    await exportFrom(src, file, { withNodes: true, withSecrets: true });
    const dst = await tmpDir('cc-bundle-full-');
    await importInto(dst, file);
    expect(await fs.readFile(path.join(dst, 'secrets.key'))).toEqual(await fs.readFile(path.join(src, 'secrets.key')));
    const { c, close } = await catalogOf(dst);
    try {
      const n = await c.store.nodes.findOne({ _id: '1' });
      expect(n).toMatchObject({
        serial: 'SER1',
        agent_token_hash: null,
        install_token_hash: null,
        install_token_expires_at: null,
        bmc: { password_enc: 'ccs1:sealed' },
        bmc_enrolment: { state: 'enrolled', password_enc: 'ccs1:enrolment-sealed' },
      });
      expect(c.policies.get('install')?.root_password_hash).toBe('$6$salt$hash');
      expect((await c.store.facts.findOne({ _id: '1' }))?.facts).toEqual({ memorysize_mb: 4096 });
    } finally {
      await close();
    }
    const again = await importInto(dst, file).catch((e: unknown) => e);
    expect((again as CcError).code).toBe('CC_ERR_BUNDLE_CONFLICT');
  });

  it('--with-nodes alone strips every sealed password (BMC and in-band enrolment) and every node credential', async () => {
    const file = path.join(work, 'nodes.tar');
    await exportFrom(src, file, { withNodes: true });
    const entries = decodeArchive(new Uint8Array(await fs.readFile(file)));
    const text = Buffer.from(entries.find((e) => e.header.path === 'store/nodes.json')!.data).toString();
    const nodes = JSON.parse(text) as Record<string, unknown>[];
    expect(nodes[0]).toMatchObject({
      serial: 'SER1',
      bmc: { address: '10.0.0.9', password_enc: '' },
      bmc_enrolment: { state: 'enrolled', username: 'admin', password_enc: '' },
      agent_token_hash: null,
      install_token_hash: null,
      install_token_expires_at: null,
    });
    expect(text).not.toContain('ccs1:');
    expect(text).not.toContain('e'.repeat(64));
    expect(entries.some((e) => e.header.path.startsWith('secrets/'))).toBe(false);
  });

  it('an import never takes a node credential, even from a bundle made before they were left out', async () => {
    const old = [{ _id: '1', id: 1, state: 'installing', macs: ['52:54:00:00:00:01'], tags: [], metadata: {} }].map((n) => ({
      ...n,
      agent_token_hash: 'a'.repeat(64),
      install_token_hash: 'e'.repeat(64),
      install_token_expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    }));
    const members = [{ path: 'store/nodes.json', data: JSON.stringify(old) }];
    const file = path.join(work, 'old-nodes.tar');
    await fs.writeFile(file, craftBundle(manifestFor(members, { nodes: true, secrets: false }), members));
    const dst = await tmpDir('cc-bundle-old-');
    await importInto(dst, file);
    const { c, close } = await catalogOf(dst);
    try {
      expect(await c.store.nodes.findOne({ _id: '1' })).toMatchObject({
        state: 'installing',
        agent_token_hash: null,
        install_token_hash: null,
        install_token_expires_at: null,
      });
    } finally {
      await close();
    }
  });

  it('an imported microkernel replaces one imported before issue 12 (flat in <data-dir>/microkernel)', async () => {
    const dst = await tmpDir('cc-bundle-legacy-');
    await writeMicrokernel(path.join(dst, 'microkernel'), 'old-flat');
    await importInto(dst, path.join(work, 'plain.tar'));
    expect(JSON.parse(await fs.readFile(path.join(dst, 'microkernel', 'amd64', 'manifest.json'), 'utf8')).version).toBe('bundle-test-1');
    await expect(fs.access(path.join(dst, 'microkernel', 'vmlinuz'))).rejects.toThrow();
  });
});

/** Import `bytes` into a fresh data dir that already holds something, expect `code`, and prove nothing changed. */
async function refused(bytes: Uint8Array, code: string, why: RegExp): Promise<void> {
  const dst = await tmpDir('cc-bundle-attack-');
  await fs.mkdir(path.join(dst, 'loaders'));
  await fs.copyFile(path.join(REPO_ROOT, 'resources', 'ipxe', 'undionly.kpxe'), path.join(dst, 'loaders', 'undionly.kpxe'));
  const file = path.join(work, `attack-${Math.random().toString(36).slice(2)}.tar`);
  await fs.writeFile(file, bytes);
  const before = { files: await fileSnapshot(dst), store: await storeSnapshot(dst) };
  const e = await importInto(dst, file).catch((x: unknown) => x);
  expect(e, `expected ${code}`).toBeInstanceOf(CcError);
  expect((e as CcError).code).toBe(code);
  expect((e as CcError).message).toMatch(why);
  expect({ files: await fileSnapshot(dst), store: await storeSnapshot(dst) }).toEqual(before);
  // Nothing outside the data dir either: the classic traversal targets stay absent.
  await expect(fs.access(path.join(path.dirname(dst), 'pwned'))).rejects.toThrow();
}

describe('hostile bundles are refused before anything is written', () => {
  const ok = { path: 'store/settings.json', data: JSON.stringify({ checkin_interval_s: 5 }) };
  const one = (m: { path: string; data: string | Uint8Array; typeflag?: string; linkname?: string }) => craftBundle(manifestFor([m]), [m]);

  it('path traversal, absolute paths and names outside the whitelist', async () => {
    for (const p of [
      '../pwned',
      '/etc/pwned',
      'loaders/../../pwned',
      'images/x/../../../pwned',
      'store/../../pwned.json',
      'images/x/.hidden',
      'db/nodes.db',
      'admin-token',
    ])
      await refused(one({ path: p, data: 'x' }), 'CC_ERR_BUNDLE_INVALID', /manifest|outside|dot path|not a|not images/);
  });

  it('symlinks, hard links, devices, FIFOs, folders and extension headers, even when the manifest lists them', async () => {
    const kinds: [string, string][] = [
      ['2', 'symbolic link'],
      ['1', 'hard link'],
      ['3', 'character device'],
      ['4', 'block device'],
      ['6', 'FIFO'],
      ['5', 'folder'],
      ['x', 'pax extended'],
      ['L', 'GNU long-name'],
    ];
    for (const [typeflag, what] of kinds)
      await refused(one({ ...ok, typeflag, linkname: '/etc/shadow' }), 'CC_ERR_BUNDLE_INVALID', new RegExp(what));
  });

  it('a member whose bytes differ from the manifest (a damaged or altered copy)', async () => {
    const m = manifestFor([ok]);
    await refused(
      craftBundle(m, [{ ...ok, data: JSON.stringify({ checkin_interval_s: 6 }) }]),
      'CC_ERR_BUNDLE_CHECKSUM',
      /store\/settings\.json: sha256/,
    );
  });

  it('a loader that is not the pinned build, although the manifest agrees with it', async () => {
    await refused(one({ path: 'loaders/undionly.kpxe', data: 'evil first stage' }), 'CC_ERR_BUNDLE_INVALID', /not the pinned build/);
  });

  it('members missing, extra, out of order, listed twice, with the wrong size', async () => {
    const a = { path: 'store/tags.json', data: '[]' };
    await refused(craftBundle(manifestFor([ok, a]), [ok]), 'CC_ERR_BUNDLE_INVALID', /listed in the manifest but not in the archive/);
    await refused(craftBundle(manifestFor([ok]), [ok, a]), 'CC_ERR_BUNDLE_INVALID', /members the manifest does not list/);
    await refused(craftBundle(manifestFor([ok, a]), [a, ok]), 'CC_ERR_BUNDLE_INVALID', /where the manifest lists/);
    await refused(craftBundle(manifestFor([ok, ok]), [ok, ok]), 'CC_ERR_BUNDLE_INVALID', /listed twice/);
    const m = manifestFor([ok]);
    m.files[0]!.bytes += 1;
    await refused(craftBundle(m, [ok]), 'CC_ERR_BUNDLE_INVALID', /bytes, the manifest says/);
  });

  it('no manifest first, a manifest that is not one, one too large, one that hides node data', async () => {
    await refused(craftBundle('not json', []), 'CC_ERR_BUNDLE_INVALID', /not JSON/);
    await refused(craftBundle({ format: 'tar', version: 1 }, []), 'CC_ERR_BUNDLE_INVALID', /manifest\.json/);
    await refused(craftBundle('x'.repeat(5 * 1024 * 1024), []), 'CC_ERR_BUNDLE_INVALID', /at most/);
    const n = { path: 'store/nodes.json', data: '[]' };
    await refused(craftBundle(manifestFor([n]), [n]), 'CC_ERR_BUNDLE_INVALID', /node data/);
    const s = { path: 'secrets/secrets.key', data: 'k' };
    await refused(craftBundle(manifestFor([s]), [s]), 'CC_ERR_BUNDLE_INVALID', /is a secret/);
    const { encodeArchive } = await import('../../server/bundle/ustar.ts');
    const { fileHeader } = await import('../../server/bundle/tar-io.ts');
    await refused(
      encodeArchive([{ header: fileHeader('store/tags.json', 2, 0), data: new Uint8Array(Buffer.from('[]')) }]),
      'CC_ERR_BUNDLE_INVALID',
      /first member/,
    );
  });

  it('store files that fail the API schema or name what does not exist', async () => {
    await refused(
      one({ path: 'store/tags.json', data: JSON.stringify([{ name: 'x', rule: ['bogus'] }]) }),
      'CC_ERR_BUNDLE_INVALID',
      /tag x/,
    );
    await refused(
      one({ path: 'store/policies.json', data: JSON.stringify([{ name: 'p', task: 'nope' }]) }),
      'CC_ERR_BUNDLE_INVALID',
      /no task named nope/,
    );
    await refused(
      one({ path: 'store/settings.json', data: JSON.stringify({ checkin_interval_s: -1 }) }),
      'CC_ERR_BUNDLE_INVALID',
      /settings/,
    );
    await refused(
      one({ path: 'store/tasks.json', data: JSON.stringify([{ name: 't', ipxe: 'echo no shebang' }]) }),
      'CC_ERR_BUNDLE_INVALID',
      /#!ipxe/,
    );
  });

  it('truncated copies, garbage after the end, not a tar at all', async () => {
    const good = one(ok);
    await refused(good.slice(0, 700), 'CC_ERR_BUNDLE_INVALID', /not a valid archive/);
    const tail = new Uint8Array(good.length + 512);
    tail.set(good);
    tail[tail.length - 1] = 0x41;
    await refused(tail, 'CC_ERR_BUNDLE_INVALID', /data after the end/);
    await refused(
      new Uint8Array(Buffer.from('PK\x03\x04 a zip file, not a bundle'.padEnd(2048, '\0'))),
      'CC_ERR_BUNDLE_INVALID',
      /not a valid archive/,
    );
  });

  it('a microkernel without its kernel, an image without its record', async () => {
    const i = { path: 'microkernel/amd64/initrd.img', data: 'x' };
    await refused(craftBundle(manifestFor([i]), [i]), 'CC_ERR_BUNDLE_INVALID', /has no vmlinuz/);
    const img = { path: 'images/evil/linux', data: 'x' };
    await refused(craftBundle(manifestFor([img]), [img]), 'CC_ERR_BUNDLE_INVALID', /no matching record/);
  });

  it("a secrets key that would replace this data dir's own", async () => {
    const dst = await tmpDir('cc-bundle-key-');
    await fs.writeFile(path.join(dst, 'secrets.key'), 'mine');
    const s = { path: 'secrets/secrets.key', data: 'theirs' };
    const file = path.join(work, 'key.tar');
    await fs.writeFile(file, craftBundle(manifestFor([s], { nodes: false, secrets: true }), [s]));
    const e = await importInto(dst, file).catch((x: unknown) => x);
    expect((e as CcError).code).toBe('CC_ERR_BUNDLE_CONFLICT');
    expect(await fs.readFile(path.join(dst, 'secrets.key'), 'utf8')).toBe('mine');
  });

  it('more than the disk can take', async () => {
    const dst = await tmpDir('cc-bundle-full-disk-');
    const file = path.join(work, 'plain.tar');
    const { c, close } = await catalogOf(dst);
    try {
      const e = await importBundle(file, { dataDir: dst, catalog: c, nodesAllowed: true, freeBytes: async () => 1000 }).catch(
        (x: unknown) => x,
      );
      expect((e as CcError).code).toBe('CC_ERR_DATA_DIR');
    } finally {
      await close();
    }
    expect(Object.keys(await fileSnapshot(dst))).toEqual([]);
  });
});
