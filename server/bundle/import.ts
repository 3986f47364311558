/**
 * `bundle import`: a bundle is an attack until proven otherwise. Pass 1 reads the whole file and
 * writes nothing: the manifest first (schema, whitelisted paths), then every member in manifest order
 * (plain files only: links, devices, folders and pax/GNU extension headers are refused), its size
 * and sha256, loaders against this version's pins, store files against the API's schemas and the
 * target's names, free space. Only then pass 2 writes, each file through the same atomic installers
 * the API uses, each re-hashed on the way in and renamed into place only when it matches.
 * Runs in the process that holds the data dir: the CLI with the lock, or the appliance (admin API).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ccError, CcError } from '../errors/cc-error.ts';
import { MalformedPacket } from '../net/malformed.ts';
import { installLoaderUpload, pinnedLoaderFile } from '../prepare/loaders/upload.ts';
import {
  installStagedMicrokernel,
  stageMicrokernelFile,
  clearMicrokernelStaging,
  type MicrokernelFile,
} from '../images/microkernel-install.ts';
import { writeImageFile } from '../images/image-store.ts';
import { KEY_FILE } from '../secrets/key-file.ts';
import { writeFileDurably } from '../store/durable-file.ts';
import type { MicrokernelArch } from '../prepare/layout.ts';
import { MANIFEST_MAX_BYTES, MANIFEST_NAME, classifyPath, parseManifest, type BundlePath, type Manifest } from './manifest.ts';
import { applyStore, checkStoreData, parseStoreFile, type Catalog, type StoreData } from './store-data.ts';
import { TarReader, type TarMember } from './tar-io.ts';

/** Store files are read into memory: this caps one (a 500-node rack's facts are far below). */
const STORE_FILE_MAX_BYTES = 256 * 1024 * 1024;
/** Room left on the disk after an import. */
const FREE_MARGIN_BYTES = 64 * 1024 * 1024;

/** What the import needs of the target. */
export interface ImportTarget {
  dataDir: string;
  catalog: Catalog;
  /** Node data may be written (no appliance runs: nodes are indexed in memory while one does). */
  nodesAllowed: boolean;
  /** Free bytes where the data dir lives. */
  freeBytes(): Promise<number | null>;
  onProgress?: (what: string, done: number, total: number) => void;
}

/** What was imported. */
export interface ImportReport {
  manifest: Manifest;
  files: number;
  bytes: number;
  loaders: string[];
  microkernels: string[];
  images: string[];
  store: Record<string, number>;
  secrets: boolean;
}

const invalid = (why: string) => ccError('CC_ERR_BUNDLE_INVALID', why);

/** Why a member's type is refused. */
function typeProblem(m: TarMember): string | null {
  const t = m.header.type;
  if (t === 'file') return null;
  const what: Record<string, string> = {
    symlink: `a symbolic link to "${m.header.linkname}"`,
    hardlink: `a hard link to "${m.header.linkname}"`,
    'char-device': 'a character device',
    'block-device': 'a block device',
    fifo: 'a FIFO',
    directory: 'a folder entry',
    'pax-header': 'a pax extended header',
    'pax-global': 'a pax global header',
    'gnu-longname': 'a GNU long-name header',
    'gnu-longlink': 'a GNU long-link header',
  };
  return `"${m.header.path}" is ${what[t] ?? `of unknown type "${m.header.typeflag}"`}; a bundle holds plain files only`;
}

async function readAll(r: TarReader, m: TarMember): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r.chunks(m)) parts.push(c);
  return Buffer.concat(parts);
}

async function sha256Of(r: TarReader, m: TarMember): Promise<string> {
  const h = createHash('sha256');
  await r.data(m, (c) => void h.update(c));
  return h.digest('hex');
}

/** Everything pass 1 learnt. */
interface Verified {
  manifest: Manifest;
  kinds: BundlePath[];
  store: StoreData;
  secretsKey: Buffer | null;
}

/** A microkernel needs its kernel and initrd; an image's files need their record (names and sha256s). */
function completeness(kinds: readonly BundlePath[], manifest: Manifest, store: StoreData): void {
  for (const arch of new Set(kinds.flatMap((k) => (k.kind === 'microkernel' ? [k.arch] : []))))
    for (const need of ['vmlinuz', 'initrd.img'])
      if (!kinds.some((k) => k.kind === 'microkernel' && k.arch === arch && k.file === need))
        throw invalid(`microkernel/${arch} has no ${need}`);
  kinds.forEach((k, i) => {
    if (k.kind !== 'image') return;
    const rec = store.images?.find((x) => x.name === k.image)?.files.find((f) => f.name === k.file);
    if (!rec || rec.sha256 !== manifest.files[i]!.sha256)
      throw invalid(`images/${k.image}/${k.file} has no matching record in store/images.json`);
  });
}

/** Pass 1: read and check everything, write nothing. */
async function verify(r: TarReader, t: ImportTarget): Promise<Verified> {
  const first = await r.next();
  if (!first) throw invalid('the archive is empty');
  if (first.header.path !== MANIFEST_NAME) throw invalid(`the first member is "${first.header.path}", not ${MANIFEST_NAME}`);
  const bad = typeProblem(first);
  if (bad) throw invalid(bad);
  if (first.header.size > MANIFEST_MAX_BYTES)
    throw invalid(`${MANIFEST_NAME} is ${first.header.size} bytes (at most ${MANIFEST_MAX_BYTES})`);
  const parsed = parseManifest((await readAll(r, first)).toString('utf8'));
  if ('refused' in parsed) throw invalid(parsed.refused);
  const manifest = parsed;
  if (manifest.contents.nodes && !t.nodesAllowed)
    throw ccError(
      'CC_ERR_BUNDLE_CONFLICT',
      'the bundle carries nodes: stop the appliance and import it with `crashcart bundle import` on the data dir',
    );
  const kinds: BundlePath[] = [];
  const store: StoreData = {};
  let secretsKey: Buffer | null = null;
  let total = 0;
  const all = manifest.files.reduce((n, f) => n + f.bytes, 0);
  for (const want of manifest.files) {
    const m = await r.next();
    if (!m) throw invalid(`${want.path} is listed in the manifest but not in the archive`);
    const problem = typeProblem(m);
    if (problem) throw invalid(problem);
    if (m.header.path !== want.path) throw invalid(`member "${m.header.path}" where the manifest lists "${want.path}" next`);
    if (m.header.size !== want.bytes) throw invalid(`${want.path} is ${m.header.size} bytes, the manifest says ${want.bytes}`);
    const kind = classifyPath(want.path) as BundlePath; // parseManifest accepted every path
    let sum: string;
    if (kind.kind === 'store' || kind.kind === 'secrets') {
      if (m.header.size > STORE_FILE_MAX_BYTES) throw invalid(`${want.path} is ${m.header.size} bytes (at most ${STORE_FILE_MAX_BYTES})`);
      const data = await readAll(r, m);
      sum = createHash('sha256').update(data).digest('hex');
      if (sum === want.sha256) {
        if (kind.kind === 'secrets') secretsKey = data;
        else {
          const v = parseStoreFile(kind.file, data.toString('utf8'));
          if (typeof v === 'string') throw invalid(v);
          (store as Record<string, unknown>)[kind.file] = v;
        }
      }
    } else sum = await sha256Of(r, m);
    if (sum !== want.sha256) throw ccError('CC_ERR_BUNDLE_CHECKSUM', `${want.path}: sha256 ${sum}, the manifest says ${want.sha256}`);
    // Loaders are trusted by this version's pins, not by the bundle's own manifest.
    if (kind.kind === 'loader' && pinnedLoaderFile(kind.name)!.sha256 !== sum)
      throw invalid(`${want.path} is not the pinned build of this Crashcart version (sha256 ${sum})`);
    kinds.push(kind);
    total += want.bytes;
    t.onProgress?.('verifying', total, all);
  }
  if ((await r.next()) !== null) throw invalid('the archive holds members the manifest does not list');
  completeness(kinds, manifest, store);

  const problems = checkStoreData(store, {
    tags: new Set(t.catalog.tags.list().map((x) => x.name)),
    tasks: new Set(t.catalog.tasks.list().map((x) => x.name)),
    images: new Set((await t.catalog.store.images.find({})).map((x) => x.name)),
    nodeCount: await t.catalog.store.nodes.count({}),
  });
  const nodeClash = problems.find((p) => p.includes('carries') && p.includes('nodes'));
  if (nodeClash) throw ccError('CC_ERR_BUNDLE_CONFLICT', nodeClash);
  if (problems.length > 0) throw invalid(problems.slice(0, 10).join('; '));
  if (secretsKey) {
    const mine = await fs.readFile(path.join(t.dataDir, KEY_FILE)).catch(() => null);
    if (mine && !mine.equals(secretsKey))
      throw ccError(
        'CC_ERR_BUNDLE_CONFLICT',
        `this data dir has its own ${KEY_FILE}: replacing it would make its stored BMC passwords unreadable`,
      );
  }
  const free = await t.freeBytes();
  if (free !== null && free - FREE_MARGIN_BYTES < all)
    throw ccError('CC_ERR_DATA_DIR', `the bundle needs ${all} bytes; ${free} are free where ${t.dataDir} lives`);
  return { manifest, kinds, store, secretsKey };
}

/** Pass 2: write every member through the atomic installers, each checked again on the way in. */
async function apply(r: TarReader, t: ImportTarget, v: Verified): Promise<ImportReport> {
  await r.next(); // manifest.json
  const rep: ImportReport = {
    manifest: v.manifest,
    files: 0,
    bytes: 0,
    loaders: [],
    microkernels: [],
    images: [],
    store: {},
    secrets: false,
  };
  const staged = new Map<MicrokernelArch, MicrokernelFile[]>();
  const all = v.manifest.files.reduce((n, f) => n + f.bytes, 0);
  for (const [i, want] of v.manifest.files.entries()) {
    const m = (await r.next())!;
    const kind = v.kinds[i]!;
    const stream = () => Readable.from(r.chunks(m));
    let got: string | null = null;
    if (kind.kind === 'loader') {
      got = (await installLoaderUpload(t.dataDir, kind.name, stream())).sha256;
      rep.loaders.push(kind.name);
    } else if (kind.kind === 'microkernel') {
      if (!staged.has(kind.arch)) {
        await clearMicrokernelStaging(t.dataDir, kind.arch);
        staged.set(kind.arch, []);
      }
      got = (await stageMicrokernelFile(t.dataDir, kind.file, stream(), undefined, kind.arch)).sha256;
      staged.get(kind.arch)!.push(kind.file);
    } else if (kind.kind === 'image') {
      got = (await writeImageFile(t.dataDir, kind.image, kind.file, stream(), m.header.size)).sha256;
      if (!rep.images.includes(kind.image)) rep.images.push(kind.image);
    } else got = want.sha256; // store and secrets were kept from pass 1, verified there
    if (got !== want.sha256) throw ccError('CC_ERR_BUNDLE_CHECKSUM', `${want.path} changed while it was imported (sha256 ${got})`);
    rep.files++;
    rep.bytes += want.bytes;
    t.onProgress?.('importing', rep.bytes, all);
  }
  for (const [arch, files] of staged) {
    await installStagedMicrokernel(t.dataDir, files, arch);
    rep.microkernels.push(arch);
  }
  if (v.secretsKey && !(await fs.stat(path.join(t.dataDir, KEY_FILE)).catch(() => null))) {
    await writeFileDurably(path.join(t.dataDir, KEY_FILE), v.secretsKey, 0o600);
    rep.secrets = true;
  }
  rep.store = await applyStore(v.store, t.catalog);
  return rep;
}

/** Verify `file` completely, then import it into the target. */
export async function importBundle(file: string, t: ImportTarget): Promise<ImportReport> {
  const fh = await fs.open(file, 'r').catch((e: Error) => {
    throw ccError('CC_ERR_BUNDLE_INVALID', `cannot read ${file}: ${e.message}`);
  });
  try {
    const size = (await fh.stat()).size;
    try {
      const v = await verify(new TarReader(fh, size), t);
      return await apply(new TarReader(fh, size), t, v);
    } catch (e) {
      if (e instanceof MalformedPacket) throw invalid(`not a valid archive at byte ${e.offset}: ${e.reason}`);
      if (e instanceof CcError) throw e;
      throw e;
    }
  } finally {
    await fh.close();
  }
}
