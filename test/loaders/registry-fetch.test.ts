/**
 * The loader registry against a Debian mirror on loopback (test/support/loopback-debian-mirror.ts): the
 * indexes and pinned .debs ensure-test-deps downloaded, replayed byte for byte, so apt still checks Debian's
 * signatures and every hash. A fresh fetch into empty folders inside a mount namespace whose /boot is an
 * empty tmpfs (a machine without the `ipxe` package, issue 12), then idempotency, tampering (target file,
 * cached .deb, a .deb the mirror serves, a planted symlink) and wrong pins. Nothing but 127.0.0.1 is reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { prepareLoaders } from '../../server/prepare/loaders/prepare-loaders.ts';
import { LOADERS, loaderByName } from '../../server/prepare/loaders/registry.ts';
import { debFileName } from '../../server/prepare/loaders/private-apt.ts';
import { unpackImage } from '../../server/prepare/loaders/ipxe-packed.ts';
import type { LoaderArtifact, LoaderProgress } from '../../server/prepare/loaders/artifact.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import {
  cachedLoaderArchive,
  poolFileName,
  startLoopbackDebianMirror,
  writeReplayAptConfig,
  type CachedArchive,
  type LoopbackDebianMirror,
} from '../support/loopback-debian-mirror.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
let work: string;
let target: string;
let cache: string;
let archive: CachedArchive;
let mirror: LoopbackDebianMirror | undefined;
/** The private apt reads the test's configuration only (APT_CONFIG), and no proxy variable. */
const ENV_KEYS = ['APT_CONFIG', 'http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] as const;
const savedEnv = new Map(ENV_KEYS.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  archive = cachedLoaderArchive(); // throws naming what ensure-test-deps did not prepare
  work = mkdtempSync(path.join(os.tmpdir(), `cc-loaders-${process.pid}-`));
  target = path.join(work, 'loaders');
  cache = path.join(work, 'cache');
  mirror = await startLoopbackDebianMirror(path.join(work, 'archive'), archive);
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.APT_CONFIG = writeReplayAptConfig(path.join(work, 'apt-config'));
});
afterAll(async () => {
  await mirror?.close();
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The loopback mirror's two archives, as prepareLoaders takes them. */
const mirrors = () => ({ mirror: mirror!.mirror, securityMirror: mirror!.securityMirror });

/** Run prepareLoaders on the test's folders and keep every progress report. */
async function prepare(artifacts?: readonly LoaderArtifact[]) {
  const steps: LoaderProgress[] = [];
  const outcomes = await prepareLoaders({ targetDir: target, cacheDir: cache, artifacts, onProgress: (p) => steps.push(p), ...mirrors() });
  return { outcomes, steps };
}

/** The paths the mirror answered with 200. */
const served = () => mirror!.requests.filter((r) => r.startsWith('200 ')).map((r) => r.slice(4));

function expectAllPinned(): void {
  for (const a of LOADERS)
    for (const f of a.files) {
      const p = path.join(target, f.name);
      expect(lstatSync(p).isFile(), f.name).toBe(true);
      expect(sha256(p), f.name).toBe(f.sha256);
    }
}

describe('loader registry', () => {
  it(
    'fetches every artifact into empty folders on a machine whose /boot is empty (no ipxe package)',
    async () => {
      // The old script followed usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi onto the host; an empty /boot makes that fail.
      const script = [
        'mount -t tmpfs cc-loaders-empty-boot /boot',
        'echo "boot-entries=$(ls -A /boot | wc -l)"',
        `exec node ${REPO}/bin/run-ts.mjs ${REPO}/build/loaders/fetch-loaders.ts --target "$1" --cache "$2" --mirror "$3" --security-mirror "$4"`,
      ].join(' && ');
      const args = [target, cache, mirror!.mirror, mirror!.securityMirror];
      // Not execFileSync: the mirror answers from this process's event loop.
      const { stdout: out } = await promisify(execFile)(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args],
        {
          encoding: 'utf8',
          timeout: 4 * 60_000,
        },
      );
      expect(out).toContain('boot-entries=0');
      expect(out).toMatch(/apt-update/); // a fresh cache: the indexes came from the (loopback) mirror
      expect(out).toContain(`${LOADERS.length} artifact(s) ready`);
      expect(out).toContain(`(${LOADERS.length} fetched, 0 already present)`);
      expectAllPinned();
      // The signed index of every suite, and every pinned package, came from the loopback mirror.
      const got = served();
      for (const s of archive.suites) expect(got, s.suite).toContain(`${s.archive}/dists/${s.suite}/InRelease`);
      for (const d of archive.debs)
        expect(
          got.some((p) => p.endsWith(`/${poolFileName(d.pin)}`)),
          poolFileName(d.pin),
        ).toBe(true);
      // The host's /boot was never touched by the namespace's tmpfs.
      expect(existsSync('/boot')).toBe(true);
    },
    5 * 60_000,
  );

  it('a second run verifies and does nothing else (no apt call, no file rewritten)', async () => {
    const before = LOADERS.flatMap((a) => a.files.map((f) => statSync(path.join(target, f.name)).mtimeMs));
    const { outcomes, steps } = await prepare();
    expect(outcomes.map((o) => o.status)).toEqual(LOADERS.map(() => 'present'));
    expect(new Set(steps.map((s) => s.step))).toEqual(new Set(['present']));
    expect(LOADERS.flatMap((a) => a.files.map((f) => statSync(path.join(target, f.name)).mtimeMs))).toEqual(before);
  });

  it('a tampered loader is detected and restored from the cached package; the others stay untouched', async () => {
    const victim = path.join(target, 'ipxe.efi');
    const bytes = readFileSync(victim);
    const mid = bytes.length >> 1;
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff; // one flipped byte, same size
    writeFileSync(victim, bytes);
    const { outcomes, steps } = await prepare();
    expect(outcomes.find((o) => o.name === 'ipxe-efi-x64')).toMatchObject({ status: 'installed', repaired: ['ipxe.efi'] });
    expect(outcomes.filter((o) => o.status === 'present').map((o) => o.name)).toEqual(['ipxe-bios', 'shim-grub-x64', 'shim-grub-arm64']);
    expect(steps.some((s) => s.step === 'apt-update')).toBe(false); // the .deb in the cache still matched its pin
    expectAllPinned();
  });

  it('a corrupt cached .deb is deleted and downloaded again before anything is unpacked', async () => {
    const ipxe = loaderByName('ipxe-bios')!;
    const deb = path.join(cache, 'debs', debFileName(ipxe.packages[0]!));
    writeFileSync(deb, 'not a debian package');
    unlinkSync(path.join(target, 'undionly.kpxe'));
    const { outcomes, steps } = await prepare([ipxe]);
    expect(outcomes).toEqual([{ name: 'ipxe-bios', arch: 'x86-bios', status: 'installed', repaired: ['undionly.kpxe'] }]);
    expect(steps.find((s) => s.step === 'download')?.message).toContain('ipxe_all');
    expect(sha256(deb)).toBe(ipxe.packages[0]!.sha256);
    expectAllPinned();
  });

  it('a symlink planted in the loaders folder is replaced, never written through', async () => {
    const outside = path.join(work, 'outside.txt');
    writeFileSync(outside, 'operator file');
    const link = path.join(target, 'snponly.efi');
    unlinkSync(link);
    symlinkSync(outside, link);
    const { outcomes } = await prepare();
    expect(outcomes.find((o) => o.name === 'ipxe-efi-x64')).toMatchObject({ status: 'installed', repaired: ['snponly.efi'] });
    expect(readFileSync(outside, 'utf8')).toBe('operator file');
    expectAllPinned();
  });

  it('a package that does not match its pin is refused, deleted, and installs nothing', async () => {
    const real = loaderByName('ipxe-bios')!;
    const wrong: LoaderArtifact = { ...real, packages: [{ ...real.packages[0]!, sha256: '0'.repeat(64) }] };
    unlinkSync(path.join(target, 'undionly.kpxe'));
    const err = await prepare([wrong]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CcError);
    expect((err as CcError).code).toBe('CC_ERR_LOADER_CHECKSUM');
    expect((err as CcError).fix).toContain('docs/boot.md');
    expect(existsSync(path.join(target, 'undionly.kpxe'))).toBe(false);
    expect(existsSync(path.join(cache, 'debs', debFileName(real.packages[0]!)))).toBe(false);
  });

  it('a .deb whose bytes differ from what the signed index says is refused: nothing cached, nothing installed', async () => {
    const ipxe = loaderByName('ipxe-bios')!;
    const pool = poolFileName(ipxe.packages[0]!);
    // The previous case left neither the .deb in the cache nor undionly.kpxe in the target.
    expect(existsSync(path.join(cache, 'debs', debFileName(ipxe.packages[0]!)))).toBe(false);
    mirror!.tampered.add(pool);
    const before = mirror!.requests.length;
    try {
      const err = await prepare([ipxe]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CcError);
      // apt checks the bytes against the Packages hash (signed through InRelease) and refuses them, after one index refresh.
      expect((err as CcError).code).toBe('CC_ERR_LOADER_FETCH');
    } finally {
      mirror!.tampered.clear();
    }
    // Served (tampered) twice: the download, and its retry after the index refresh.
    expect(mirror!.requests.slice(before).filter((r) => r.startsWith('200 ') && r.endsWith(`/${pool}`))).toHaveLength(2);
    expect(existsSync(path.join(cache, 'debs', debFileName(ipxe.packages[0]!)))).toBe(false);
    expect(existsSync(path.join(target, 'undionly.kpxe'))).toBe(false);
  });

  it('a file that does not match its pin is refused and not installed', async () => {
    const real = loaderByName('ipxe-bios')!;
    // undionly.kpxe is patched (registry IPXE_BIOS_BANNER_PATCH): the package's file is pinned by `fromPackage`.
    const f = real.files[0]!;
    const wrong: LoaderArtifact = { ...real, files: [{ ...f, fromPackage: { ...f.fromPackage!, sha256: 'f'.repeat(64) } }] };
    const err = await prepare([wrong]).catch((e: unknown) => e);
    expect((err as CcError).code).toBe('CC_ERR_LOADER_CHECKSUM');
    expect((err as CcError).message).toContain('usr/lib/ipxe/undionly.kpxe');
    expect(existsSync(path.join(target, 'undionly.kpxe'))).toBe(false);
    // And the real pin still works afterwards.
    expect((await prepare([real])).outcomes[0]).toMatchObject({ status: 'installed' });
    expectAllPinned();
  });

  it("the patched iPXE EFI loaders: the package's file, then the patch, each against its pin (registry IPXE_BANNER_PATCH)", () => {
    const patched = LOADERS.flatMap((a) => a.files).filter((f) => f.patches);
    expect(patched.map((f) => f.name).sort()).toEqual(['ipxe.efi', 'snponly.efi']);
    for (const f of patched) {
      const installed = readFileSync(path.join(target, f.name));
      // Each patch is the banner wait's immediate: 2,048 ticks in the package's file, 307 in the installed one.
      expect(f.patches, f.name).toEqual([expect.objectContaining({ from: 'be00080000', to: 'be33010000' })]);
      const back = Buffer.from(installed);
      for (const p of f.patches!) {
        expect(installed.subarray(p.offset, p.offset + p.to.length / 2).toString('hex'), f.name).toBe(p.to);
        Buffer.from(p.from, 'hex').copy(back, p.offset);
      }
      // Put back, the installed file is the package's file byte for byte: the patch changed nothing else.
      expect(createHash('sha256').update(back).digest('hex'), f.name).toBe(f.fromPackage!.sha256);
      expect(installed.length).toBe(f.fromPackage!.bytes);
    }
  });

  it("the packed BIOS loader: Debian's payload with the wait's immediate changed, packed again (IPXE_BIOS_BANNER_PATCH)", () => {
    const f = loaderByName('ipxe-bios')!.files[0]!;
    const installed = readFileSync(path.join(target, 'undionly.kpxe'));
    expect(createHash('sha256').update(installed).digest('hex')).toBe(f.sha256);
    const payload = unpackImage(installed, f.packed!.layout, 'installed undionly.kpxe');
    const p = f.packed!.patches[0]!;
    expect(payload.subarray(p.offset, p.offset + 5).toString('hex')).toBe('ba33010000');
    Buffer.from(p.from, 'hex').copy(payload, p.offset);
    // Put back, the payload is Debian's byte for byte.
    expect(createHash('sha256').update(payload).digest('hex')).toBe(f.packed!.sha256);
  });

  it('a patch that finds other bytes in the package file, or a result off its pin, installs nothing', async () => {
    const real = loaderByName('ipxe-efi-x64')!;
    const snp = real.files.find((f) => f.name === 'snponly.efi')!;
    const other: LoaderArtifact = {
      ...real,
      files: [{ ...snp, patches: [{ offset: snp.patches![0]!.offset, from: 'be00090000', to: 'be33010000' }] }],
    };
    unlinkSync(path.join(target, 'snponly.efi'));
    const err = await prepare([other]).catch((e: unknown) => e);
    expect((err as CcError).code).toBe('CC_ERR_LOADER_UNPACK');
    expect((err as CcError).message).toMatch(/the file holds be00080000, the patch expects be00090000/);
    expect(existsSync(path.join(target, 'snponly.efi'))).toBe(false);
    const offPin: LoaderArtifact = { ...real, files: [{ ...snp, patches: [{ ...snp.patches![0]!, to: 'be00020000' }] }] };
    const err2 = await prepare([offPin]).catch((e: unknown) => e);
    expect((err2 as CcError).code).toBe('CC_ERR_LOADER_CHECKSUM');
    expect((err2 as CcError).message).toContain('snponly.efi patched');
    expect(existsSync(path.join(target, 'snponly.efi'))).toBe(false);
    await prepare([real]);
    expectAllPinned();
  });

  it('a version the mirror does not have is CC_ERR_LOADER_FETCH naming the package, after one index refresh', async () => {
    const real = loaderByName('ipxe-bios')!;
    const gone: LoaderArtifact = { ...real, packages: [{ ...real.packages[0]!, version: '0.0.0-crashcart-absent' }] };
    unlinkSync(path.join(target, 'undionly.kpxe'));
    const { steps, err } = await (async () => {
      const s: LoaderProgress[] = [];
      const e = await prepareLoaders({
        targetDir: target,
        cacheDir: cache,
        artifacts: [gone],
        onProgress: (p) => s.push(p),
        ...mirrors(),
      }).catch((x: unknown) => x);
      return { steps: s, err: e };
    })();
    expect((err as CcError).code).toBe('CC_ERR_LOADER_FETCH');
    expect((err as CcError).message).toContain('0.0.0-crashcart-absent');
    expect((err as CcError).fix).toMatch(/snapshot\.debian\.org/);
    expect(steps.filter((s) => s.step === 'apt-update')).toHaveLength(1);
    await prepare([real]);
    expectAllPinned();
  });
});
