/**
 * A Debian archive on loopback for the loader registry tests, replayed from the loader cache that
 * scripts/ensure-test-deps.sh fills (build/out/cache/loaders: the indexes apt downloaded from the real
 * mirror, and the pinned .debs). Nothing is re-signed or rewritten: each InRelease is served as Debian
 * signed it, each Packages file as the bytes its hash in that InRelease names (apt keeps them recompressed;
 * `apt-helper cat-file` gives back the original), each .deb as it was downloaded. So the private apt still
 * checks the signatures with Debian's keyring, the Packages hashes and the .deb hashes, and the loader code
 * its own pins. Only 127.0.0.1 is listened on; `close()` ends every connection.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { DebPin } from '../../server/prepare/loaders/artifact.ts';
import { debFileName } from '../../server/prepare/loaders/private-apt.ts';
import { LOADERS } from '../../server/prepare/loaders/registry.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
/** Where `fetch-loaders` (run by ensure-test-deps) keeps its private apt state and the .debs. */
export const LOADER_CACHE = path.join(REPO, 'build', 'out', 'cache', 'loaders');
/** The architectures the private apt configuration asks for (server/prepare/loaders/private-apt.ts). */
const ARCHES = ['amd64', 'arm64'] as const;
const COMPRESSED = /^(|\.(gz|xz|bz2|lzma|lz4|zst))$/;

/** One suite of the cached sources list: its archive path on the mirror and its index files in the cache. */
interface CachedSuite {
  /** Path of the archive on the mirror, e.g. /debian or /debian-security. */
  readonly archive: string;
  readonly suite: string;
  readonly inRelease: string;
  readonly packages: { readonly arch: string; readonly file: string; readonly sha256: string; readonly bytes: number }[];
}

/** What the cache holds for the mirror: the suites of its sources list, and each pinned .deb. */
export interface CachedArchive {
  readonly suites: readonly CachedSuite[];
  readonly debs: readonly { readonly pin: DebPin; readonly file: string }[];
}

/** The `SHA256:` entries of a Release/InRelease text: path -> hash and size. */
function releaseSha256(text: string): Map<string, { sha256: string; bytes: number }> {
  const out = new Map<string, { sha256: string; bytes: number }>();
  const lines = text.split('\n');
  let i = lines.indexOf('SHA256:') + 1;
  if (i === 0) return out;
  for (; i < lines.length && lines[i]!.startsWith(' '); i++) {
    const [sha256, bytes, name] = lines[i]!.trim().split(/\s+/);
    if (sha256 && bytes && name) out.set(name, { sha256, bytes: Number(bytes) });
  }
  return out;
}

/**
 * Check that the loader cache holds everything the mirror serves and say where each piece is; throws
 * naming every missing piece and the fix otherwise.
 */
export function cachedLoaderArchive(cacheDir = LOADER_CACHE): CachedArchive {
  const missing: string[] = [];
  const lists = path.join(cacheDir, 'apt', 'lists');
  const listed = fs.existsSync(lists) ? fs.readdirSync(lists) : [];
  const sourcesList = path.join(cacheDir, 'apt', 'sources.list');
  const sources = fs.existsSync(sourcesList)
    ? [...fs.readFileSync(sourcesList, 'utf8').matchAll(/^deb (?:\[[^\]]*\] )?(\S+) (\S+) main$/gm)]
    : [];
  if (sources.length === 0) missing.push(`${sourcesList} (the private apt's sources list)`);
  const suites: CachedSuite[] = [];
  for (const [, uri, suite] of sources) {
    // apt names a list file after its URL: scheme dropped, every / made _.
    const prefix = `${uri!.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '')}/dists/${suite}/`.replace(/\//g, '_');
    const inRelease = path.join(lists, `${prefix}InRelease`);
    if (!fs.existsSync(inRelease)) {
      missing.push(`${inRelease} (the signed index of ${uri} ${suite})`);
      continue;
    }
    const hashes = releaseSha256(fs.readFileSync(inRelease, 'utf8'));
    const packages: CachedSuite['packages'][number][] = [];
    for (const arch of ARCHES) {
      const base = `${prefix}main_binary-${arch}_Packages`;
      const file = listed.find((f) => f.startsWith(base) && COMPRESSED.test(f.slice(base.length)));
      const want = hashes.get(`main/binary-${arch}/Packages`);
      if (!file || !want) missing.push(`${path.join(lists, base)}[.lz4|.gz|...] (${suite} main ${arch})`);
      else packages.push({ arch, file: path.join(lists, file), ...want });
    }
    suites.push({ archive: new URL(uri!).pathname.replace(/\/+$/, ''), suite: suite!, inRelease, packages });
  }
  const debs: { pin: DebPin; file: string }[] = [];
  const seen = new Set<string>();
  for (const pin of LOADERS.flatMap((a) => a.packages)) {
    const file = path.join(cacheDir, 'debs', debFileName(pin));
    if (seen.has(file)) continue;
    seen.add(file);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st || st.size !== pin.bytes || createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== pin.sha256)
      missing.push(`${file} (pinned ${pin.sha256}, ${pin.bytes} bytes)`);
    else debs.push({ pin, file });
  }
  if (missing.length > 0)
    throw new Error(
      `the loader cache lacks what the loopback Debian mirror serves:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
        '  fix: bash scripts/ensure-test-deps.sh (it fetches the pinned loaders, which caches the indexes and .debs)',
    );
  return { suites, debs };
}

/** The running mirror. */
export interface LoopbackDebianMirror {
  /** --mirror: the archive of the suites that are not *-security. */
  readonly mirror: string;
  /** --security-mirror: the archive of the *-security suite. */
  readonly securityMirror: string;
  /** Every request, in order: `<status> <path>`. */
  readonly requests: string[];
  /** Serve these .debs (pool file names) with one byte flipped until the set is emptied. */
  readonly tampered: Set<string>;
  close(): Promise<void>;
}

/** The file name of a pinned .deb in the pool (the epoch is not part of it). */
export function poolFileName(pin: DebPin): string {
  return `${pin.package}_${pin.version.replace(/^\d+:/, '')}_${pin.arch}.deb`;
}

/**
 * Start the mirror on 127.0.0.1 (a free port). The Packages files are unpacked into `scratchDir`
 * (about 100 MB), checked against the hashes in their InRelease before anything is served.
 */
export async function startLoopbackDebianMirror(scratchDir: string, cached = cachedLoaderArchive()): Promise<LoopbackDebianMirror> {
  const files = new Map<string, string>();
  fs.mkdirSync(scratchDir, { recursive: true });
  for (const s of cached.suites) {
    const dists = `${s.archive}/dists/${s.suite}`;
    files.set(`${dists}/InRelease`, s.inRelease);
    for (const p of s.packages) {
      const out = path.join(scratchDir, `${s.suite}_${p.arch}_Packages`);
      const fd = fs.openSync(out, 'w');
      try {
        execFileSync('/usr/lib/apt/apt-helper', ['cat-file', p.file], { stdio: ['ignore', fd, 'pipe'] });
      } finally {
        fs.closeSync(fd);
      }
      const got = createHash('sha256').update(fs.readFileSync(out)).digest('hex');
      if (got !== p.sha256)
        throw new Error(
          `${p.file} unpacks to sha256 ${got}, its InRelease says ${p.sha256}\n  fix: rm -rf ${LOADER_CACHE} && bash scripts/ensure-test-deps.sh`,
        );
      // apt asks by hash when the Release says Acquire-By-Hash, and by name otherwise.
      files.set(`${dists}/main/binary-${p.arch}/Packages`, out);
      files.set(`${dists}/main/binary-${p.arch}/by-hash/SHA256/${p.sha256}`, out);
    }
  }
  const pool = new Map(cached.debs.map((d) => [poolFileName(d.pin), d.file]));
  const requests: string[] = [];
  const tampered = new Set<string>();

  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname);
    const deb = /\/pool\/.+\/([^/]+\.deb)$/.exec(url)?.[1];
    const file = deb ? pool.get(deb) : files.get(url);
    requests.push(`${file ? 200 : 404} ${url}`);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not in the loopback mirror\n');
      return;
    }
    if (deb && tampered.has(deb)) {
      const bytes = fs.readFileSync(file);
      const mid = bytes.length >> 1;
      bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
      res.writeHead(200, { 'content-length': bytes.length }).end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const security = cached.suites.find((s) => s.suite.endsWith('-security'));
  const main = cached.suites.find((s) => !s.suite.endsWith('-security'));
  return {
    mirror: `${base}${main?.archive ?? '/debian'}`,
    securityMirror: `${base}${security?.archive ?? '/debian-security'}`,
    requests,
    tampered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An apt configuration for the private apt (APT_CONFIG) that reads nothing of the host's
 * (/etc/apt/apt.conf.d could add index targets the replay does not have, or a proxy), never uses a
 * proxy, and accepts the cached InRelease after its Valid-Until (a replay of a recorded archive;
 * the signatures are still checked). Returns the file's path.
 */
export function writeReplayAptConfig(dir: string): string {
  const empty = path.join(dir, 'apt.conf.d');
  fs.mkdirSync(empty, { recursive: true });
  const file = path.join(dir, 'apt.conf');
  fs.writeFileSync(
    file,
    [
      `Dir::Etc::parts "${empty}";`,
      'Dir::Etc::main "/dev/null";',
      'Acquire::http::Proxy "DIRECT";',
      'Acquire::Check-Valid-Until "false";',
      'Acquire::Retries "0";',
      '',
    ].join('\n'),
  );
  return file;
}
