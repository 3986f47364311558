/**
 * Fetch the registry's loaders into a target folder (e.g. `<data-dir>/loaders/`): idempotent (an
 * artifact whose files are present and match their pins is skipped), every .deb and every file checked
 * against its sha256 pin, files installed atomically, progress reported through a callback.
 * The caller (`crashcart prepare`, build/loaders/fetch-loaders.ts) chooses the folders and prints.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ccError } from '../../errors/cc-error.ts';
import type { DebPin, LoaderArtifact, LoaderOutcome, LoaderProgress } from './artifact.ts';
import { fileMatchesPin, installAtomically, sha256Hex } from './file-pin.ts';
import { patchFile } from './patch-file.ts';
import { PrivateApt, debFileName, type AptMirrors } from './private-apt.ts';
import { LOADERS } from './registry.ts';
import { resolveInTree } from './tree-path.ts';

const run = promisify(execFile);

/** What `prepareLoaders` needs: where to put loaders, where to cache, what to fetch, whom to tell. */
export interface PrepareLoadersOptions extends AptMirrors {
  /** Folder the loader files are installed into (created when missing). */
  readonly targetDir: string;
  /** Folder for the private apt state and downloaded .debs (reused across runs). */
  readonly cacheDir: string;
  /** Artifacts to prepare (default: the whole registry). */
  readonly artifacts?: readonly LoaderArtifact[];
  /** Progress reports, in order. */
  readonly onProgress?: (p: LoaderProgress) => void;
}

/** Key of a pinned package (the same package can serve several artifacts). */
const pinKey = (p: DebPin): string => `${p.package}:${p.arch}=${p.version}`;

/** Files of `a` that are missing from `dir` or differ from their pins. */
async function staleFiles(dir: string, a: LoaderArtifact): Promise<string[]> {
  const bad: string[] = [];
  for (const f of a.files) if (!(await fileMatchesPin(path.join(dir, f.name), f.sha256, f.bytes))) bad.push(f.name);
  return bad;
}

/**
 * The cached .deb of every pin, downloading (in one apt-get call) those missing or corrupt, each
 * checked against its pinned sha256 and size before anything is unpacked. Returns how many were downloaded.
 */
async function obtainDebs(apt: PrivateApt, pins: readonly DebPin[], debDir: string): Promise<number> {
  const missing: DebPin[] = [];
  for (const pin of pins) {
    const cached = path.join(debDir, debFileName(pin));
    if (await fileMatchesPin(cached, pin.sha256, pin.bytes)) continue;
    await rm(cached, { force: true }); // corrupt or truncated: fetch it again
    missing.push(pin);
  }
  for (const got of await apt.download(missing, debDir)) {
    const bytes = await readFile(got);
    const pin = missing.find((p) => debFileName(p) === path.basename(got)) as DebPin;
    const sum = sha256Hex(bytes);
    if (sum !== pin.sha256 || bytes.length !== pin.bytes) {
      await rm(got, { force: true });
      throw ccError(
        'CC_ERR_LOADER_CHECKSUM',
        `${debFileName(pin)}: sha256 ${sum} (${bytes.length} bytes), pinned ${pin.sha256} (${pin.bytes} bytes)`,
      );
    }
  }
  return missing.length;
}

/** Unpack a .deb into a fresh folder under `parent` with dpkg-deb (no maintainer scripts run). */
async function unpack(deb: string, parent: string): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'unpack-'));
  try {
    await run('dpkg-deb', ['-x', deb, dir], { maxBuffer: 16 << 20 });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw ccError('CC_ERR_LOADER_TOOLS', 'dpkg-deb is not installed');
    throw ccError('CC_ERR_LOADER_UNPACK', `${path.basename(deb)}: ${(err.stderr ?? err.message).trim()}`);
  }
  return dir;
}

/** Prepare every requested artifact; resolves with one outcome per artifact, in registry order. */
export async function prepareLoaders(o: PrepareLoadersOptions): Promise<LoaderOutcome[]> {
  const artifacts = o.artifacts ?? LOADERS;
  const tell = o.onProgress ?? (() => {});
  await mkdir(o.targetDir, { recursive: true });

  const stale = new Map<string, string[]>();
  for (const a of artifacts) {
    const bad = await staleFiles(o.targetDir, a);
    if (bad.length > 0) stale.set(a.name, bad);
    else tell({ artifact: a.name, step: 'present', message: `${a.files.map((f) => f.name).join(', ')} verified` });
  }
  if (stale.size === 0) return artifacts.map((a) => ({ name: a.name, arch: a.arch, status: 'present', repaired: [] }));

  // Each package once, reported under the first artifact that needs it.
  const pins = new Map<string, { pin: DebPin; first: string }>();
  for (const a of artifacts)
    if (stale.has(a.name)) for (const pin of a.packages) if (!pins.has(pinKey(pin))) pins.set(pinKey(pin), { pin, first: a.name });
  const debDir = path.join(o.cacheDir, 'debs');
  await mkdir(debDir, { recursive: true });
  const apt = new PrivateApt(path.join(o.cacheDir, 'apt'), o, () =>
    tell({ artifact: '*', step: 'apt-update', message: 'downloading Debian package indexes (amd64, arm64)' }),
  );
  const all = [...pins.values()].map((p) => p.pin);
  const total = all.reduce((n, p) => n + p.bytes, 0);
  tell({ artifact: '*', step: 'download', message: all.map((p) => `${p.package}_${p.arch}`).join(' '), done: 0, total });
  const fetched = await obtainDebs(apt, all, debDir);
  tell({
    artifact: '*',
    step: 'download',
    message: `${all.length} package(s) verified (${fetched} downloaded, ${all.length - fetched} from the cache)`,
    done: total,
    total,
  });
  const unpacked = new Map<string, string>();
  try {
    for (const [key, { pin, first }] of pins) {
      tell({ artifact: first, step: 'unpack', message: debFileName(pin) });
      unpacked.set(key, await unpack(path.join(debDir, debFileName(pin)), o.cacheDir));
    }
    for (const a of artifacts) {
      const bad = stale.get(a.name);
      if (!bad) continue;
      for (const f of a.files.filter((x) => bad.includes(x.name))) {
        const pin = a.packages.find((p) => p.package === f.package);
        const tree = pin && unpacked.get(pinKey(pin));
        if (!tree)
          throw ccError('CC_ERR_LOADER_UNPACK', `${a.name}: ${f.name} names package ${f.package}, which the artifact does not list`);
        const src = await resolveInTree(tree, f.path);
        const st = await stat(src);
        if (!st.isFile()) throw ccError('CC_ERR_LOADER_UNPACK', `${f.path} in ${f.package} is not a regular file`);
        const packaged = await readFile(src);
        // The package's file against its pin, then (for a patched file) the patches and the result against its own pin.
        const pinned = f.fromPackage ?? f;
        const sum = sha256Hex(packaged);
        if (sum !== pinned.sha256 || packaged.length !== pinned.bytes)
          throw ccError('CC_ERR_LOADER_CHECKSUM', `${f.path} in ${f.package}: sha256 ${sum}, pinned ${pinned.sha256}`);
        const data = patchFile(packaged, f);
        const patchedSum = data === packaged ? sum : sha256Hex(data);
        if (patchedSum !== f.sha256 || data.length !== f.bytes)
          throw ccError('CC_ERR_LOADER_CHECKSUM', `${f.name} patched: sha256 ${patchedSum}, pinned ${f.sha256}`);
        await installAtomically(path.join(o.targetDir, f.name), data);
        tell({ artifact: a.name, step: 'install', message: f.name, done: data.length, total: f.bytes });
      }
      tell({ artifact: a.name, step: 'done', message: `${bad.join(', ')} installed` });
    }
  } finally {
    for (const dir of unpacked.values()) await rm(dir, { recursive: true, force: true });
  }
  return artifacts.map((a) => ({
    name: a.name,
    arch: a.arch,
    status: stale.has(a.name) ? 'installed' : 'present',
    repaired: stale.get(a.name) ?? [],
  }));
}
