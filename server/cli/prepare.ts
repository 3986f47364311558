/**
 * `crashcart prepare [--data-dir DIR] [--arch amd64,arm64] [--image NAME ...] [--mirror URL]
 * [--security-mirror URL] [--cache DIR] [--build-cache DIR] [--rebuild]`: everything a rack needs,
 * fetched or built while the laptop still reaches the Debian mirror, into the data dir (or through
 * the appliance holding it). One line per artifact while it runs, a summary table at the end; exit
 * status 1 when anything asked for is not ready. Idempotent: a rerun checks and sends nothing.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { openStore, type Store } from '../store/store.ts';
import { HashCache } from '../prepare/inventory/hash-cache.ts';
import { MICROKERNEL_ARCHES, defaultCacheDir, type MicrokernelArch } from '../prepare/layout.ts';
import { prepareRegistry, runPrepare, type PrepareSummaryRow } from '../prepare/registry.ts';
import { localTarget, remoteTarget, type InstallTarget } from '../prepare/targets.ts';
import { ArtifactLines } from './artifact-lines.ts';
import { routeWrites } from './data-dir-route.ts';

/** Usage lines for the CLI's help. */
export const PREPARE_USAGE = `  prepare [--data-dir DIR] [--arch amd64,arm64] [--image NAME ...] [--mirror URL] [--security-mirror URL]
          [--cache DIR] [--build-cache DIR] [--rebuild]
                             fetch and build what a rack needs (loaders, microkernel, images) into the
                             data dir while the Debian mirror is reachable; then serve offline`;

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      arch: { type: 'string' },
      image: { type: 'string', multiple: true },
      mirror: { type: 'string' },
      'security-mirror': { type: 'string' },
      cache: { type: 'string' },
      'build-cache': { type: 'string' },
      rebuild: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const arches = (values.arch ?? 'amd64').split(',').map((a) =>
    a
      .trim()
      .toLowerCase()
      .replace(/^x86_64$/, 'amd64')
      .replace(/^aarch64$/, 'arm64'),
  );
  for (const a of arches)
    if (!(MICROKERNEL_ARCHES as readonly string[]).includes(a))
      throw ccError('CC_ERR_CONFIG_INVALID', `--arch takes ${MICROKERNEL_ARCHES.join(', ')} (comma-separated), got "${a}"`);
  const images = values.image ?? [];
  for (const n of images)
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(n)) throw ccError('CC_ERR_CONFIG_INVALID', `--image "${n}" is not an image name`);
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir(process.env));
  const cacheDir = path.resolve(values.cache ?? defaultCacheDir(dataDir));
  return {
    dataDir,
    cacheDir,
    buildCacheDir: path.resolve(values['build-cache'] ?? path.join(cacheDir, 'microkernel-build')),
    arches: [...new Set(arches)] as MicrokernelArch[],
    images: [...new Set(images)],
    mirror: values.mirror,
    securityMirror: values['security-mirror'],
    rebuild: Boolean(values.rebuild),
  };
}

/** The summary table. Pure. */
export function summaryTable(rows: readonly PrepareSummaryRow[], where: string): string {
  const w = Math.max(...rows.map((r) => r.label.length), 8);
  const lines = [`Prepared in ${where}:`, `  ${'ARTIFACT'.padEnd(w)}  ${'STATUS'.padEnd(11)}  ${'SIZE'.padStart(10)}  DETAIL`];
  for (const r of rows) {
    lines.push(`  ${r.label.padEnd(w)}  ${r.status.padEnd(11)}  ${(r.bytes ? MiB(r.bytes) : '').padStart(10)}  ${r.detail}`);
    if (r.error) lines.push(`  ${''.padEnd(w)}  ${''.padEnd(11)}  ${''.padStart(10)}  fix: ${r.error.fix}`);
  }
  const bad = rows.filter((r) => r.status === 'failed' || r.status === 'unavailable');
  const root = rows.filter((r) => r.needsRoot).map((r) => r.label);
  lines.push(
    root.length > 0
      ? `Needs root (or a user namespace): ${root.join(', ')}.`
      : 'Nothing here needed root: loaders and the microkernel build run as any user.',
  );
  lines.push(
    bad.length === 0
      ? 'Ready: `crashcart serve` needs no network from here on (`crashcart doctor` checks the rest).'
      : `Not ready: ${bad.length} artifact${bad.length > 1 ? 's' : ''} above, each with its fix.`,
  );
  return lines.join('\n') + '\n';
}

/** Run `prepare`; resolves with the exit status. */
export async function prepareCommand(argv: string[]): Promise<number> {
  const o = parse(argv);
  // One prepare at a time per cache (apt state, staging), whichever way it installs.
  const cacheLock = await lockDataDir(o.cacheDir, 'crashcart prepare');
  let local: Store | null = null;
  try {
    // The store too, not only the lock: a disk image is recorded there.
    const route = await routeWrites(o.dataDir, () => openStore(o.dataDir, 0, 'crashcart prepare'));
    let target: InstallTarget;
    if ('remote' in route) {
      target = remoteTarget(route.remote, path.join(o.cacheDir, 'loaders-staging'));
      process.stdout.write(`an appliance runs on ${o.dataDir}: preparing through ${route.remote.baseUrl}\n`);
    } else {
      local = route.local;
      target = localTarget(o.dataDir, local.images);
    }
    const entries = prepareRegistry({ arches: o.arches, images: o.images });
    const lines = new ArtifactLines(process.stderr, entries);
    const rows = await runPrepare(entries, {
      target,
      prepared: await target.prepared(),
      root: REPO_ROOT,
      cacheDir: o.cacheDir,
      buildCacheDir: o.buildCacheDir,
      mirror: o.mirror,
      securityMirror: o.securityMirror,
      rebuild: o.rebuild,
      hashes: new HashCache(),
      progress: (id, u) => lines.update(id, u),
    });
    lines.finish();
    process.stdout.write(summaryTable(rows, target.where));
    return rows.every((r) => r.status === 'present' || r.status === 'installed') ? 0 : 1;
  } finally {
    await local?.close();
    await cacheLock.release();
  }
}
