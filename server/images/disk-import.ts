/**
 * Import a whole-disk image (kind `disk`) from a stream: detect what it is by its bytes (zstd, xz,
 * gzip, qcow2, raw), stage the uncompressed raw image as a sparse file while hashing it, look inside
 * (partition table, firmware, first boot), store the zstd form the agent will stream, and record both
 * checksums. Nothing is visible under /images/NAME until every step succeeded and the files are
 * fsync'ed; a failure leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Collection } from '../store/collection.ts';
import type { ImageDoc } from '../store/docs.ts';
import type { DiskImageInfo, DiskImportPhase, FirstBoot } from '../../contract/disk-image.ts';
import { ccError, CcError } from '../errors/cc-error.ts';
import { MalformedPacket } from '../net/malformed.ts';
import { CONTAINER_PROBE_BYTES, detectContainer, unsupportedAdvice, type Compression } from './codec/container.ts';
import { decompressor, Meter, peek, sparseFileWriter } from './stream-parts.ts';
import { qcow2ToRaw } from './qcow2-convert.ts';
import { openFileSource } from './file-source.ts';
import { inspectDisk } from './disk-inspect.ts';
import { DEFAULT_ZSTD_LEVEL, zstdCompressFile } from './zstd-compress.ts';
import { imageDir } from './image-store.ts';
import { openFileSinkSync } from '../store/file-sink.ts';

/** Largest uncompressed image accepted (1 TiB): bounds a decompression bomb and the hashing time. */
export const MAX_DISK_IMAGE_BYTES = 2 ** 40;
/** The stored file's name under /images/NAME/. */
export const DISK_FILE = 'disk.raw.zst';
/** Image names (as the admin API's NameSchema). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Progress of one import. */
export type DiskImportProgress = (p: { phase: DiskImportPhase; done: number; total: number }) => void;

/** What an import needs. */
export interface DiskImportOptions {
  col: Collection<ImageDoc>;
  dataDir: string;
  name: string;
  source: Readable;
  /** Bytes the source will deliver (0 when unknown). */
  sourceSize: number;
  /** The operator's word on first boot (for images Crashcart cannot look inside). */
  firstBoot?: FirstBoot;
  builder?: DiskImageInfo['builder'];
  zstdLevel?: number;
  /** Largest raw image accepted (default MAX_DISK_IMAGE_BYTES). */
  maxBytes?: number;
  onProgress?: DiskImportProgress;
  now: () => Date;
}

/** Receive the source into `staging`: returns the raw file, its hash and size, and what the source was. */
async function receive(o: DiskImportOptions, staging: string) {
  const progress = o.onProgress ?? (() => {});
  const srcMeter = new Meter(Number.MAX_SAFE_INTEGER, (n) => progress({ phase: 'receive', done: n, total: o.sourceSize }));
  const { head, stream } = await peek(o.source, CONTAINER_PROBE_BYTES);
  const outer = detectContainer(head);
  if ('unsupported' in outer) throw ccError('CC_ERR_DISK_IMAGE_FORMAT', unsupportedAdvice(outer.unsupported));
  const compression: Compression = 'compression' in outer ? outer.compression : 'none';
  const max = o.maxBytes ?? MAX_DISK_IMAGE_BYTES;
  const abort = new AbortController();
  const decoded = new PassThrough({ highWaterMark: 1 << 20 });
  // A zstd source is kept as it came (it is already what the agent streams): written beside the decoding.
  // Opened before a byte moves (file-sink.ts): a failure then waits for its close before the staging folder goes.
  // Synchronously: `stream` (peek's) has no error listener until the pipeline below, so no await may come between.
  const keep = compression === 'zstd' ? openFileSinkSync(path.join(staging, DISK_FILE), 'w', 0o644) : null;
  const stages: NodeJS.ReadWriteStream[] = [srcMeter];
  if (keep) {
    keep.out.on('error', () => abort.abort());
    srcMeter.pipe(keep.out);
  }
  if (compression !== 'none') stages.push(decompressor(compression));
  const upstream = pipeline([stream, ...stages, decoded] as unknown as [Readable, PassThrough], { signal: abort.signal });
  upstream.catch(() => abort.abort());
  let sink: ReturnType<typeof sparseFileWriter> | null = null;
  try {
    const inner = await peek(decoded, CONTAINER_PROBE_BYTES);
    const kind = detectContainer(inner.head);
    if (!('format' in kind))
      throw ccError(
        'CC_ERR_DISK_IMAGE_FORMAT',
        `inside the ${compression} data: ${'unsupported' in kind ? unsupportedAdvice(kind.unsupported) : `${kind.compression} again (compressed twice)`}`,
      );
    const raw = path.join(staging, 'disk.raw');
    if (kind.format === 'qcow2') {
      const q = path.join(staging, 'source.qcow2');
      const qs = openFileSinkSync(q, 'w', 0o644); // no await before the pipe, as for `keep` above
      try {
        await pipeline(inner.stream, qs.out, { signal: abort.signal });
      } finally {
        await qs.settled();
      }
      await upstream;
      await qcow2ToRaw(q, raw, max, (pct) => progress({ phase: 'convert', done: Math.round(pct * 10), total: 1000 }));
      await fsp.rm(q);
      const m = new Meter(max);
      await pipeline(fs.createReadStream(raw, { highWaterMark: 1 << 20 }), m, new PassThrough().resume());
      return { raw, size: m.bytes, sha256: m.digest(), format: 'qcow2' as const, compression, srcMeter, kept: false };
    }
    const rawMeter = new Meter(max);
    sink = sparseFileWriter(raw);
    await pipeline(inner.stream, rawMeter, sink, { signal: abort.signal });
    await upstream;
    if (keep) await finished(keep.out);
    return { raw, size: await sink.done, sha256: rawMeter.digest(), format: 'raw' as const, compression, srcMeter, kept: keep !== null };
  } catch (e) {
    abort.abort();
    await upstream.catch(() => {});
    // Nothing may still write into the staging folder when the caller removes it.
    await keep?.settled();
    await sink?.settled();
    throw e;
  }
}

/** fsync a file by path. */
async function syncFile(file: string): Promise<void> {
  const h = await fsp.open(file, 'r');
  await h.sync();
  await h.close();
}

/** Import a disk image; resolves with the recorded image. */
export async function importDiskImage(o: DiskImportOptions): Promise<ImageDoc> {
  if (!NAME.test(o.name)) throw ccError('CC_ERR_IMAGE_IMPORT', `bad image name "${o.name}" (letters, digits, . _ - only)`);
  if (await o.col.findOne({ _id: o.name })) throw ccError('CC_ERR_IMAGE_EXISTS', `image "${o.name}"`);
  const progress = o.onProgress ?? (() => {});
  const staging = path.join(o.dataDir, 'images-staging', `${o.name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(staging, { recursive: true });
  try {
    const got = await receive(o, staging);
    progress({ phase: 'inspect', done: 0, total: got.size });
    const src = await openFileSource(got.raw);
    let facts;
    try {
      facts = await inspectDisk(src);
    } catch (e) {
      if (e instanceof MalformedPacket) throw ccError('CC_ERR_DISK_IMAGE_INVALID', e.message);
      throw e;
    } finally {
      await src.close();
    }
    if (o.firstBoot && o.firstBoot !== facts.first_boot && facts.first_boot_source === 'detected')
      facts.warnings.push(
        `the operator said first boot "${o.firstBoot}", the image looks like "${facts.first_boot}" (${facts.first_boot_reason})`,
      );
    if (o.firstBoot)
      Object.assign(facts, { first_boot: o.firstBoot, first_boot_source: 'operator', first_boot_reason: 'set by the operator at import' });
    else if (o.builder && facts.first_boot_source === 'unreadable')
      Object.assign(facts, { first_boot: 'nocloud', first_boot_source: 'builder' });
    const stored = path.join(staging, DISK_FILE);
    const sourceSha = got.srcMeter.digest();
    const kept = got.kept ? { size: got.srcMeter.bytes, sha256: sourceSha } : null;
    const packed =
      kept ??
      (await zstdCompressFile(got.raw, stored, o.zstdLevel ?? DEFAULT_ZSTD_LEVEL, (n) =>
        progress({ phase: 'compress', done: n, total: got.size }),
      ));
    if ('sourceSha256' in packed && packed.sourceSha256 !== got.sha256)
      throw ccError('CC_ERR_IMAGE_IMPORT', 'the staged raw image changed while it was compressed');
    progress({ phase: 'store', done: 0, total: 1 });
    await fsp.rm(got.raw);
    await syncFile(stored);
    const info: DiskImageInfo = {
      ...facts,
      file: DISK_FILE,
      compression: 'zstd',
      stored_size: packed.size,
      stored_sha256: packed.sha256,
      size: got.size,
      sha256: got.sha256,
      source: { format: got.format, compression: got.compression, size: got.srcMeter.bytes, sha256: sourceSha },
      ...(o.builder ? { builder: o.builder } : {}),
    };
    const dir = imageDir(o.dataDir, o.name);
    await fsp.mkdir(path.dirname(dir), { recursive: true });
    try {
      await fsp.rename(staging, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw ccError('CC_ERR_IMAGE_EXISTS', `${dir} already exists`);
      throw e;
    }
    const doc: ImageDoc = {
      _id: o.name,
      name: o.name,
      kind: 'disk',
      files: [{ name: DISK_FILE, size: packed.size, sha256: packed.sha256 }],
      created_at: o.now().toISOString(),
      disk: info,
    };
    try {
      await o.col.put(doc, { durable: true });
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw e;
    }
    progress({ phase: 'store', done: 1, total: 1 });
    return doc;
  } catch (e) {
    await fsp.rm(staging, { recursive: true, force: true });
    if (e instanceof CcError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC')
      throw ccError('CC_ERR_IMAGE_IMPORT', `no space left in ${o.dataDir} (the raw image is staged there while importing)`);
    throw ccError('CC_ERR_IMAGE_IMPORT', (e as Error).message);
  }
}
