/**
 * `crashcart image import --iso FILE --name NAME`: unpack an installer ISO's package tree into the image
 * NAME, served as a repository at /images/NAME/repo/ (docs/images.md "Installer ISOs as repositories").
 * Through the running appliance's admin API when one holds the data dir, else into the data dir itself.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { ccError } from '../errors/cc-error.ts';
import { openStore } from '../store/store.ts';
import type { ImageDoc } from '../store/docs.ts';
import { importIsoRepo } from '../images/iso/iso-import.ts';
import { formatBytes, ProgressDisplay } from './progress-display.ts';
import { routeWrites } from './data-dir-route.ts';

/** Usage lines (also shown by `crashcart help`). */
export const ISO_IMPORT_USAGE = `  image import --iso FILE --name NAME [--data-dir DIR]
                             unpack an installer ISO (Debian/Ubuntu dists/, Rocky/Alma repodata/)
                             and serve it as a package repository at /images/NAME/repo/
  image import --iso-file FILE --name NAME [--data-dir DIR]
                             keep an ISO as one file of the image (Ubuntu live-server url=)`;

/** A short summary of an image's repository. */
export function describeRepo(doc: ImageDoc): string {
  const r = doc.repo!;
  const what = r.kind === 'deb' ? `suites ${r.suites.join(', ')}` : `repositories ${r.repos.map((x) => x || '(root)').join(', ')}`;
  return [
    `image ${doc.name}: ${r.kind} repository from ISO "${r.volume_id}" (${r.names} names)`,
    `  ${r.files} files, ${r.symlinks} symbolic links, ${formatBytes(r.bytes)}; ${what}${r.install_tree ? '; an installation tree (.treeinfo)' : ''}`,
    `  served at /images/${doc.name}/repo/ ; ISO sha256 ${r.source.sha256}`,
  ].join('\n');
}

function sha256Of(file: string, onBytes: (n: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let n = 0;
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (d) => {
        h.update(d);
        onBytes((n += d.length));
      })
      .once('end', () => resolve(h.digest('hex')))
      .once('error', reject);
  });
}

/** Run the command. */
export async function isoImportCommand(dataDir: string, name: string, file: string): Promise<void> {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw ccError('CC_ERR_IMAGE_IMPORT', `cannot read ${file}`);
  }
  const show = new ProgressDisplay();
  const route = await routeWrites(dataDir, () => openStore(dataDir, 0, 'crashcart image import --iso'));
  if ('remote' in route) {
    process.stdout.write(`an appliance runs on ${dataDir}: importing through ${route.remote.baseUrl}\n`);
    const doc = await route.remote.call<ImageDoc>('PUT', `/api/v1/images/${encodeURIComponent(name)}/iso`, {
      stream: fs.createReadStream(file, { highWaterMark: 1 << 20 }),
      length: size,
      onBytes: (n) => (n < size ? show.bytes('uploading', n, size) : show.status('unpacking on the appliance')),
    });
    show.endLine();
    process.stdout.write(describeRepo(doc) + '\n');
    return;
  }
  const store = route.local;
  try {
    const sha256 = await sha256Of(file, (n) => show.bytes('reading', n, size));
    show.endLine();
    const doc = await importIsoRepo({
      col: store.images,
      dataDir,
      name,
      iso: file,
      sha256,
      now: () => new Date(),
      onProgress: (d, t) => show.bytes('unpacking', d, t),
    });
    show.endLine();
    process.stdout.write(describeRepo(doc) + '\n');
  } finally {
    await store.close();
  }
}
