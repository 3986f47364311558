/**
 * A loader file sent to a running appliance (`crashcart prepare` or `bundle import` while `serve`
 * holds the data dir): accepted only under a name the registry knows and only when its bytes are
 * the pinned ones, so the admin API can never be used to plant another first stage. Streamed to a
 * temp file with a byte cap and hashed on the way; renamed into `<data-dir>/loaders` only after
 * the check (then fsync of the folder), so firmware never sees a half or a wrong file.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ccError } from '../../errors/cc-error.ts';
import { fsyncFile, renameDurably } from '../../store/durable-file.ts';
import { openFileSink } from '../../store/file-sink.ts';
import { loadersDir } from '../layout.ts';
import type { LoaderFile } from './artifact.ts';
import { LOADERS } from './registry.ts';

/** The pinned file of the registry with this name, if any. */
export function pinnedLoaderFile(name: string): LoaderFile | undefined {
  for (const a of LOADERS) for (const f of a.files) if (f.name === name) return f;
  return undefined;
}

/** Stream `src` into `<dataDir>/loaders/<name>` if and only if it is the pinned file of that name. */
export async function installLoaderUpload(
  dataDir: string,
  name: string,
  src: Readable,
): Promise<{ name: string; bytes: number; sha256: string }> {
  const pin = pinnedLoaderFile(name);
  if (!pin) throw ccError('CC_ERR_BAD_REQUEST', `"${name}" is not a loader of the registry (server/prepare/loaders/registry.ts)`);
  const dir = loadersDir(dataDir);
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.upload`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      // More bytes than the pin can never match: stop reading instead of filling the disk.
      if (bytes > pin.bytes) return cb(ccError('CC_ERR_LOADER_CHECKSUM', `${name}: more than the pinned ${pin.bytes} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  // Open before the first byte, closed before the removal below (store/file-sink.ts says why).
  const sink = await openFileSink(tmp, 'wx', 0o644);
  try {
    await pipeline(src, meter, sink.out);
    const sha256 = hash.digest('hex');
    if (sha256 !== pin.sha256 || bytes !== pin.bytes)
      throw ccError('CC_ERR_LOADER_CHECKSUM', `${name}: got sha256 ${sha256} (${bytes} bytes), pinned ${pin.sha256} (${pin.bytes} bytes)`);
    await fsyncFile(tmp);
    await renameDurably(tmp, path.join(dir, name));
    return { name, bytes, sha256 };
  } finally {
    await sink.settled();
    await fsp.rm(tmp, { force: true });
  }
}
