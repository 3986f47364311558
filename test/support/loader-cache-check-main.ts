/**
 * `node bin/run-ts.mjs test/support/loader-cache-check-main.ts`: exits 1, naming what is missing, unless the
 * loader cache (build/out/cache/loaders) holds everything test/loaders/registry-fetch.test.ts replays from its
 * loopback Debian mirror (the indexes and the pinned .debs). scripts/ensure-test-deps.sh refills it then.
 */
import { cachedLoaderArchive } from './loopback-debian-mirror.ts';

try {
  cachedLoaderArchive();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
