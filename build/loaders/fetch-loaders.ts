/**
 * Dev/CI entry point for the loader registry: `node bin/run-ts.mjs build/loaders/fetch-loaders.ts
 * [--target DIR] [--cache DIR] [--only NAME,...] [--mirror URL] [--security-mirror URL]`.
 * Default target resources/ipxe/ (what the serving side reads until it reads `<data-dir>/loaders/`,
 * docs/boot.md), default cache build/out/cache/loaders/. scripts/fetch-ipxe.sh and
 * scripts/ensure-test-deps.sh call it; `crashcart prepare` calls `prepareLoaders` itself.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CcError } from '../../server/errors/cc-error.ts';
import { prepareLoaders } from '../../server/prepare/loaders/prepare-loaders.ts';
import { LOADERS } from '../../server/prepare/loaders/registry.ts';
import type { LoaderProgress } from '../../server/prepare/loaders/artifact.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

/** One progress line per step (a log, not a redrawn bar: it also reads well in CI output). */
function printProgress(p: LoaderProgress): void {
  const bytes = p.total ? ` ${((p.done ?? 0) / 1048576).toFixed(1)}/${(p.total / 1048576).toFixed(1)} MiB` : '';
  process.stdout.write(`loaders: ${p.artifact.padEnd(16)} ${p.step.padEnd(10)} ${p.message}${bytes}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      cache: { type: 'string' },
      only: { type: 'string' },
      mirror: { type: 'string' },
      'security-mirror': { type: 'string' },
    },
    strict: true,
  });
  const only = values.only?.split(',').filter(Boolean);
  const unknown = only?.filter((n) => !LOADERS.some((a) => a.name === n)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`fetch-loaders: unknown artifact ${unknown.join(', ')}; known: ${LOADERS.map((a) => a.name).join(', ')}\n`);
    process.exit(2);
  }
  const targetDir = path.resolve(values.target ?? path.join(REPO, 'resources/ipxe'));
  const outcomes = await prepareLoaders({
    targetDir,
    cacheDir: path.resolve(values.cache ?? path.join(REPO, 'build/out/cache/loaders')),
    artifacts: only ? LOADERS.filter((a) => only.includes(a.name)) : LOADERS,
    mirror: values.mirror,
    securityMirror: values['security-mirror'],
    onProgress: printProgress,
  });
  const fetched = outcomes.filter((x) => x.status === 'installed').length;
  process.stdout.write(
    `loaders: ${outcomes.length} artifact(s) ready in ${targetDir} (${fetched} fetched, ${outcomes.length - fetched} already present)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(e instanceof CcError ? `fetch-loaders: ${e.toCliText()}\n` : `fetch-loaders: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
