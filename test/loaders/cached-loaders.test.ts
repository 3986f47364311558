/**
 * test/support/cached-loaders.ts, which firmware-smoke, signatures and bench/loaders install their loaders with:
 * from the loader cache ensure-test-deps fills, the shared cache left as it was; without the cache, an error naming
 * what is missing and the fix before anything is fetched or installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loaderByName } from '../../server/prepare/loaders/registry.ts';
import { prepareCachedLoaders } from '../support/cached-loaders.ts';
import { LOADER_CACHE } from '../support/loopback-debian-mirror.ts';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), `cc-cached-loaders-${process.pid}-`));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('prepareCachedLoaders', () => {
  it('installs from the cache; the shared cache (its private apt sources list) is not rewritten', async () => {
    const sources = path.join(LOADER_CACHE, 'apt', 'sources.list');
    const before = existsSync(sources) ? readFileSync(sources, 'utf8') : null;
    const target = path.join(work, 'loaders');
    const outcomes = await prepareCachedLoaders({
      targetDir: target,
      scratchDir: path.join(work, 'cache'),
      artifacts: [loaderByName('ipxe-bios')!],
    });
    expect(outcomes).toEqual([{ name: 'ipxe-bios', arch: 'x86-bios', status: 'installed', repaired: ['undionly.kpxe'] }]);
    expect(readFileSync(sources, 'utf8')).toBe(before);
  });

  it('without the cache: an error naming what is missing and `bash scripts/ensure-test-deps.sh`; nothing installed', async () => {
    const empty = path.join(work, 'no-cache');
    mkdirSync(empty);
    const target = path.join(work, 'not-installed');
    const err = await prepareCachedLoaders({ targetDir: target, scratchDir: path.join(work, 'scratch'), cacheDir: empty }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${path.join(empty, 'apt', 'sources.list')} (the private apt's sources list)`);
    expect((err as Error).message).toContain('fix: bash scripts/ensure-test-deps.sh');
    expect(existsSync(target)).toBe(false);
  });
});
