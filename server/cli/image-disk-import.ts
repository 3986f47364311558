/**
 * `crashcart image import --disk FILE --name NAME`: import a whole-disk image (raw, raw + zstd/xz/gzip,
 * qcow2; FILE `-` reads standard input) into the data dir, with progress.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { openStore } from '../store/store.ts';
import { importDiskImage } from '../images/disk-import.ts';
import type { ImageDoc } from '../store/docs.ts';
import { formatBytes, ProgressDisplay } from './progress-display.ts';
import type { AdminClient } from './admin-client.ts';
import { routeWrites } from './data-dir-route.ts';
import { CliUsageError } from './cli-errors.ts';

/**
 * Send a disk image file to a running appliance (`PUT /api/v1/images/:name/disk`): the appliance holds the
 * data dir, so the import runs there, exactly as the UI's upload does.
 */
export async function uploadDiskImage(
  client: AdminClient,
  name: string,
  file: string,
  firstBoot: string | undefined,
  show: ProgressDisplay,
): Promise<ImageDoc> {
  const size = fs.statSync(file).size;
  const q = firstBoot ? `?first_boot=${encodeURIComponent(firstBoot)}` : '';
  const doc = await client.call<ImageDoc>('PUT', `/api/v1/images/${encodeURIComponent(name)}/disk${q}`, {
    stream: fs.createReadStream(file, { highWaterMark: 1 << 20 }),
    length: size,
    onBytes: (n) => show.bytes('uploading', n, size),
  });
  show.endLine();
  return doc;
}

/** Usage lines (also shown by `crashcart help`). */
export const DISK_IMPORT_USAGE = `  image import --disk FILE --name NAME [--first-boot nocloud|none] [--zstd-level N] [--data-dir DIR]
                             import a disk image: raw, raw.zst/.xz/.gz or qcow2 (FILE - = stdin)`;

const PHASE_LABEL = { receive: 'reading', convert: 'qcow2 -> raw', inspect: 'inspecting', compress: 'zstd', store: 'storing' } as const;

/** A one-screen summary of an imported (or built) disk image. */
export function describeDiskImage(doc: ImageDoc): string {
  const d = doc.disk!;
  const parts = d.partition_table.partitions
    .map(
      (p) =>
        `    ${p.number}  ${formatBytes(p.size).padStart(10)}  ${p.type_name}${p.filesystem !== 'unknown' ? ` (${p.filesystem})` : ''}${p.name ? ` "${p.name}"` : ''}`,
    )
    .join('\n');
  return [
    `image ${doc.name} (disk): ${d.os ?? 'unknown OS'}`,
    `  raw:        ${formatBytes(d.size)}  sha256 ${d.sha256}`,
    `  stored:     /images/${doc.name}/${d.file}  ${formatBytes(d.stored_size)} (zstd)  sha256 ${d.stored_sha256}`,
    `  boots with: ${d.firmware}  (BIOS: ${d.boot.bios.reason}; UEFI: ${d.boot.uefi.reason})`,
    `  first boot: ${d.first_boot} (${d.first_boot_source}: ${d.first_boot_reason})`,
    `  partitions (${d.partition_table.type.toUpperCase()}):`,
    parts,
    ...d.warnings.map((w) => `  warning: ${w}`),
  ].join('\n');
}

/** Run the command (`argv` after `image`). */
export async function diskImportCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      disk: { type: 'string' },
      name: { type: 'string' },
      'first-boot': { type: 'string' },
      'zstd-level': { type: 'string' },
      'data-dir': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const file = values.disk;
  if (!file || !values.name)
    throw new CliUsageError('CC_ERR_CONFIG_INVALID', '--disk FILE and --name NAME are required', `usage:\n${DISK_IMPORT_USAGE}`);
  const fb = values['first-boot'];
  if (fb !== undefined && fb !== 'nocloud' && fb !== 'none') throw ccError('CC_ERR_CONFIG_INVALID', '--first-boot is nocloud or none');
  const level = values['zstd-level'] === undefined ? undefined : Number(values['zstd-level']);
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir(process.env));
  let size = 0;
  if (file !== '-') {
    try {
      size = fs.statSync(file).size;
    } catch {
      throw ccError('CC_ERR_IMAGE_IMPORT', `cannot read ${file}`);
    }
  }
  const show = new ProgressDisplay();
  let phase = '';
  const route = await routeWrites(dataDir, () => openStore(dataDir, 0, 'crashcart image import --disk'));
  if ('remote' in route) {
    if (file === '-' || level !== undefined)
      throw ccError(
        'CC_ERR_CONFIG_INVALID',
        `an appliance runs on ${dataDir}: the import goes through its admin API, which takes a file of known size at the default zstd level; save standard input to a file first, leave out --zstd-level, or stop the appliance`,
      );
    process.stdout.write(`an appliance runs on ${dataDir}: importing through ${route.remote.baseUrl}\n`);
    process.stdout.write(describeDiskImage(await uploadDiskImage(route.remote, values.name, file, fb, show)) + '\n');
    return;
  }
  const store = route.local;
  try {
    const doc = await importDiskImage({
      col: store.images,
      dataDir,
      name: values.name,
      source: file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: 1 << 20 }),
      sourceSize: size,
      firstBoot: fb,
      zstdLevel: level,
      now: () => new Date(),
      onProgress: (p) => {
        if (p.phase !== phase) {
          phase = p.phase;
          show.endLine();
        }
        if (p.phase === 'convert') show.status(`${PHASE_LABEL.convert} ${(p.done / 10).toFixed(0)}%`);
        else if (p.phase === 'inspect' || p.phase === 'store') show.status(PHASE_LABEL[p.phase]);
        else show.bytes(PHASE_LABEL[p.phase], p.done, p.total);
      },
    });
    show.endLine();
    process.stdout.write(describeDiskImage(doc) + '\n');
  } finally {
    await store.close();
  }
}
