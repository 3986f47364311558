/**
 * A loader sent to a running appliance (server/prepare/loaders/upload.ts): refused unless it is the pinned file of
 * a registry name, and a refused upload leaves nothing in the loaders folder, whichever chunk the refusal comes at.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installLoaderUpload, pinnedLoaderFile } from '../../server/prepare/loaders/upload.ts';

let dataDir: string;
const loaders = () => path.join(dataDir, 'loaders');
/** What the folder holds once every stream the upload opened has had time to settle. */
async function leftInFolder(): Promise<string[]> {
  await sleep(50);
  return (await fs.readdir(loaders())).sort();
}

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-upload-'));
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('installLoaderUpload', () => {
  const pin = pinnedLoaderFile('undionly.kpxe')!;

  it('a body past the pin in its first chunk: refused, the temp file opened for it closed and removed', async () => {
    await expect(installLoaderUpload(dataDir, 'undionly.kpxe', Readable.from([Buffer.alloc(pin.bytes + 4)]))).rejects.toMatchObject({
      code: 'CC_ERR_LOADER_CHECKSUM',
      message: expect.stringMatching(/more than the pinned/),
    });
    expect(await leftInFolder()).toEqual([]);
  });

  it('a body past the pin in a later chunk, and a body of the pinned size with other bytes: refused, nothing left', async () => {
    const chunks = [Buffer.alloc(4096), Buffer.alloc(pin.bytes)];
    await expect(installLoaderUpload(dataDir, 'undionly.kpxe', Readable.from(chunks))).rejects.toMatchObject({
      code: 'CC_ERR_LOADER_CHECKSUM',
    });
    await expect(installLoaderUpload(dataDir, 'undionly.kpxe', Readable.from([Buffer.alloc(pin.bytes)]))).rejects.toMatchObject({
      code: 'CC_ERR_LOADER_CHECKSUM',
      message: expect.stringMatching(/got sha256 .* pinned/),
    });
    expect(await leftInFolder()).toEqual([]);
  });

  it('a source that fails at once (the client went away): refused, the temp file closed and removed', async () => {
    const gone = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(installLoaderUpload(dataDir, 'undionly.kpxe', gone)).rejects.toThrow(/client went away/);
    expect(await leftInFolder()).toEqual([]);
  });

  it('many refusals in a row leave nothing behind', async () => {
    for (let i = 0; i < 200; i++) {
      const body = i % 2 ? [Buffer.alloc(pin.bytes + 4)] : [Buffer.alloc(1024), Buffer.alloc(pin.bytes)];
      await expect(installLoaderUpload(dataDir, 'undionly.kpxe', Readable.from(body))).rejects.toMatchObject({
        code: 'CC_ERR_LOADER_CHECKSUM',
      });
    }
    expect(await leftInFolder()).toEqual([]);
  });

  it('a name the registry does not know: refused before anything is written', async () => {
    await expect(installLoaderUpload(dataDir, 'payload.efi', Readable.from([Buffer.alloc(10)]))).rejects.toMatchObject({
      code: 'CC_ERR_BAD_REQUEST',
    });
    await expect(fs.readdir(loaders())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
