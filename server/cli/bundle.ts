/**
 * `crashcart bundle export FILE [--with-nodes] [--with-secrets]` and `bundle import FILE`, both
 * with `--data-dir DIR`: a prepared data dir as one file, carried to another laptop (docs/prepare.md).
 * On the data dir itself when no appliance holds it, else through the appliance's admin API.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { openStore, type Store } from '../store/store.ts';
import { fsyncFile, renameDurably } from '../store/durable-file.ts';
import { openFileSink, type FileSink } from '../store/file-sink.ts';
import { TagService } from '../tags/tag-service.ts';
import { TaskService } from '../tasks/task-service.ts';
import { PolicyService } from '../policies/policy-service.ts';
import { SettingsService } from '../settings/settings-service.ts';
import { HashCache } from '../prepare/inventory/hash-cache.ts';
import { realProbes } from '../readiness/probes.ts';
import { exportBundleToFile } from '../bundle/export.ts';
import { importBundle, type ImportReport } from '../bundle/import.ts';
import type { Catalog } from '../bundle/store-data.ts';
import { routeWrites } from './data-dir-route.ts';
import { progressBar } from './progress.ts';

/** Usage lines for the CLI's help. */
export const BUNDLE_USAGE = `  bundle export FILE [--with-nodes] [--with-secrets] [--data-dir DIR]
                             a prepared data dir (loaders, microkernels, images, tags, tasks, policies,
                             settings; nodes and secrets only when asked) as one file with a manifest
  bundle import FILE [--data-dir DIR]
                             verify a bundle completely, then import it`;

const out = (s: string) => process.stdout.write(s + '\n');

/** A progress bar that redraws only when the percentage moves (every quarter when stderr is not a terminal). */
function meter(label: string): (what: string, done: number, total: number) => void {
  const bar = progressBar(label);
  const step = process.stderr.isTTY ? 1 : 25;
  let last = -1;
  return (what, done, total) => {
    // Unknown total (a download): every 16 MiB.
    const bucket = total > 0 ? Math.floor(Math.floor((done / total) * 100) / step) : Math.floor(done / (16 << 20));
    if (bucket === last && (total <= 0 || done < total)) return;
    last = bucket;
    bar(what, done, total);
  };
}
const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** The services a bundle goes through, opened on a store this process holds. */
async function catalogOf(store: Store): Promise<Catalog> {
  return {
    store,
    tags: await TagService.open(store.tags),
    tasks: await TaskService.open(store.tasks),
    policies: await PolicyService.open(store.policies),
    // No appliance runs: the public URL is only pushed to agents, never stored.
    settings: await SettingsService.open(store.settings, ''),
  };
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, 'with-nodes': { type: 'boolean' }, 'with-secrets': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [verb, file, ...extra] = positionals;
  if ((verb !== 'export' && verb !== 'import') || !file || extra.length > 0)
    throw ccError('CC_ERR_CONFIG_INVALID', 'usage: crashcart bundle export FILE [--with-nodes] [--with-secrets] | bundle import FILE');
  if (verb === 'import' && (values['with-nodes'] || values['with-secrets']))
    throw ccError('CC_ERR_CONFIG_INVALID', 'bundle import takes what the bundle holds: --with-nodes and --with-secrets belong to export');
  return {
    verb,
    file: path.resolve(file),
    dataDir: path.resolve(values['data-dir'] ?? defaultDataDir(process.env)),
    withNodes: Boolean(values['with-nodes']),
    withSecrets: Boolean(values['with-secrets']),
  };
}

function describe(r: Pick<ImportReport, 'files' | 'bytes' | 'loaders' | 'microkernels' | 'images' | 'store'>): string {
  const s = Object.entries(r.store)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return `${r.files} files (${MiB(r.bytes)}): loaders ${r.loaders.join(', ') || 'none'}; microkernel ${r.microkernels.join(', ') || 'none'}; images ${r.images.join(', ') || 'none'}; ${s}`;
}

async function exportCommand(o: ReturnType<typeof parse>): Promise<void> {
  const route = await routeWrites(o.dataDir, () => openStore(o.dataDir, 0, 'crashcart bundle export'));
  const bar = meter('bundle:');
  if ('remote' in route) {
    if (o.withSecrets)
      throw ccError(
        'CC_ERR_FORBIDDEN',
        `an appliance runs on ${o.dataDir}, and secrets never leave through its API: stop it, then export with --with-secrets`,
      );
    out(`an appliance runs on ${o.dataDir}: exporting through ${route.remote.baseUrl}`);
    const tmp = path.join(path.dirname(o.file), `.${path.basename(o.file)}.${randomBytes(4).toString('hex')}.part`);
    let sink: FileSink | undefined;
    try {
      const res = await route.remote.open(`/api/v1/bundle${o.withNodes ? '?with_nodes=true' : ''}`, { accept: 'application/x-tar' });
      let n = 0;
      res.on('data', (d: Buffer) => bar(path.basename(o.file), (n += d.length), 0));
      sink = await openFileSink(tmp, 'wx', 0o600);
      await pipeline(res, sink.out);
      await fsyncFile(tmp);
      await renameDurably(tmp, o.file);
    } catch (e) {
      await sink?.settled();
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    process.stderr.write('\n');
    out(`bundle ${o.file}: ${MiB(fs.statSync(o.file).size)} (the importer checks every member against its manifest)`);
    return;
  }
  try {
    const r = await exportBundleToFile(
      o.file,
      { dataDir: o.dataDir, catalog: await catalogOf(route.local), hashes: new HashCache() },
      { withNodes: o.withNodes, withSecrets: o.withSecrets, now: new Date(), onProgress: (what, done, total) => bar(what, done, total) },
    );
    for (const s of r.skipped) process.stderr.write(`left out: ${s}\n`);
    const has = (p: string) => r.manifest.files.some((f) => f.path.startsWith(p));
    out(
      `bundle ${o.file}: ${r.files} files, ${MiB(r.bytes)}; loaders ${has('loaders/') ? 'yes' : 'NONE'}, microkernel ${has('microkernel/') ? 'yes' : 'NONE'}, nodes ${o.withNodes ? 'yes' : 'no'}, secrets ${o.withSecrets ? 'yes' : 'no'}`,
    );
    if (!has('loaders/') || !has('microkernel/'))
      process.stderr.write('note: run `crashcart prepare` on this data dir first, so the bundle can serve a rack on its own\n');
  } finally {
    await route.local.close();
  }
}

async function importCommand(o: ReturnType<typeof parse>): Promise<void> {
  if (!fs.existsSync(o.file)) throw ccError('CC_ERR_BUNDLE_INVALID', `cannot read ${o.file}`);
  const route = await routeWrites(o.dataDir, () => openStore(o.dataDir, 0, 'crashcart bundle import'));
  if ('remote' in route) {
    out(`an appliance runs on ${o.dataDir}: importing through ${route.remote.baseUrl}`);
    const size = fs.statSync(o.file).size;
    const bar = meter('uploading:');
    const r = await route.remote.call<ImportReport>('PUT', '/api/v1/bundle', {
      stream: fs.createReadStream(o.file),
      length: size,
      onBytes: (n) => bar(path.basename(o.file), n, size),
    });
    out(`imported ${describe(r)}`);
    return;
  }
  try {
    const bar = meter('bundle:');
    const r = await importBundle(o.file, {
      dataDir: o.dataDir,
      catalog: await catalogOf(route.local),
      nodesAllowed: true,
      freeBytes: () => realProbes.freeBytes(o.dataDir),
      onProgress: (what, done, total) => bar(what, done, total),
    });
    out(`imported ${describe(r)}${r.secrets ? '; secrets key installed' : ''}`);
  } finally {
    await route.local.close();
  }
}

/** Run `bundle ...`. */
export async function bundleCommand(argv: string[]): Promise<void> {
  const o = parse(argv);
  return o.verb === 'export' ? exportCommand(o) : importCommand(o);
}
