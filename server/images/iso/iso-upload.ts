/**
 * An installer ISO arriving over the admin API (`PUT /api/v1/images/:name/iso`): the body is staged to a
 * file (the walk needs random access), hashed on the way, unpacked (iso-import.ts), then the staged copy is
 * removed; the recorded image is announced as `image.imported`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Image } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { ccError } from '../../errors/cc-error.ts';
import { openFileSink, type FileSink } from '../../store/file-sink.ts';
import { imageView } from '../image-actions.ts';
import { importIsoRepo } from './iso-import.ts';

/** Receive the ISO into `file`; returns its sha256. */
export async function stageUpload(body: Readable, file: string): Promise<string> {
  const hash = createHash('sha256');
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  let sink: FileSink | undefined;
  try {
    sink = await openFileSink(file, 'wx', 0o600);
    await pipeline(body, meter, sink.out);
  } catch (e) {
    // The caller removes the file: after this, nothing writes to it any more (store/file-sink.ts).
    await sink?.settled();
    throw ccError('CC_ERR_IMAGE_IMPORT', `receiving the ISO: ${(e as Error).message}`);
  }
  return hash.digest('hex');
}

/** Import one uploaded ISO's repository and say so. */
export async function importIsoUpload(ctx: CoreContext, name: string, body: Readable): Promise<Image> {
  const dir = path.join(ctx.config.dataDir, 'images-staging');
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}-upload-${process.pid}-${randomBytes(4).toString('hex')}.iso`);
  try {
    const sha256 = await stageUpload(body, file);
    const doc = await importIsoRepo({ col: ctx.store.images, dataDir: ctx.config.dataDir, name, iso: file, sha256, now: () => ctx.now() });
    const r = doc.repo!;
    ctx.events.emit('image.imported', {
      message: `Image ${name}: ${r.kind} repository from ISO "${r.volume_id}" (${r.files} files, ${Math.round(r.bytes / 1048576)} MiB) served at /images/${name}/repo/`,
      data: { image: name, kind: 'repo', repo: r },
    });
    return imageView(doc);
  } finally {
    await fsp.rm(file, { force: true });
  }
}
