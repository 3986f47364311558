/**
 * The admin API's disk import (`PUT /api/v1/images/:name/disk`) against a running appliance over real
 * HTTP: a streamed upload is recorded with both checksums and its facts, listed, served to nodes with
 * Range from the node plane, and refused clearly when it is not a disk image, not authenticated, sent
 * with the wrong type, or aborted halfway (nothing half-written is ever served).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { makeSampleDisk } from './harness/sample-disk.ts';
import { run, tmpDir } from './harness/tools.ts';

const work = tmpDir('api');
const raw = path.join(work, 'sample.raw');
let t: TestAppliance;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  makeSampleDisk(raw, path.join(work, 'mk'), { table: 'gpt', bootCode: true, esp: true, root: 'ext4', cloudInit: true });
  run('xz', ['-k', '-0', '-T1', raw]);
  t = await startTestAppliance();
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Stream a file to the admin API (chunked, as a browser or curl -T sends a large file). */
async function upload(name: string, file: string, query = '', headers: Record<string, string> = { authorization: `Bearer ${t.token}` }) {
  const res = await fetch(`${t.adminUrl}/api/v1/images/${name}/disk${query}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as any };
}

describe('PUT /api/v1/images/:name/disk', () => {
  it('imports a streamed xz image, lists it, and the node plane serves the stored zstd with Range', async () => {
    const r = await upload('sample', `${raw}.xz`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.kind).toBe('disk');
    const d = r.body.disk;
    expect(d.sha256).toBe(sha(fs.readFileSync(raw)));
    expect(d.size).toBe(fs.statSync(raw).size);
    expect(d.source).toMatchObject({ format: 'raw', compression: 'xz', size: fs.statSync(`${raw}.xz`).size });
    expect(d).toMatchObject({
      firmware: 'both',
      first_boot: 'nocloud',
      first_boot_source: 'detected',
      os: 'Sample Linux 9',
      root_partition: 3,
      file: 'disk.raw.zst',
    });
    expect(r.body.files).toEqual([{ name: 'disk.raw.zst', size: d.stored_size, sha256: d.stored_sha256 }]);

    const list = await t.admin('GET', '/api/v1/images');
    expect(list.body.images).toEqual([r.body]);
    const ev = await t.admin('GET', '/api/v1/events?type=image.imported&limit=5');
    expect(ev.body.events[0].data).toMatchObject({ image: 'sample', kind: 'disk', sha256: d.sha256 });

    const whole = Buffer.from(await (await fetch(`${t.nodeUrl}/images/sample/disk.raw.zst`)).arrayBuffer());
    expect(sha(whole)).toBe(d.stored_sha256);
    const part = await fetch(`${t.nodeUrl}/images/sample/disk.raw.zst`, { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(1000, 2000))).toBe(true);
    // What a node streams decompresses to the image, byte for byte.
    fs.writeFileSync(path.join(work, 'served.zst'), whole);
    expect(run('sh', ['-c', `zstd -dc ${path.join(work, 'served.zst')} | sha256sum`]).slice(0, 64)).toBe(d.sha256);
  });

  it('refuses what is not a disk image, a second import under the name, and installer files into it', async () => {
    const vmdk = path.join(work, 'x.vmdk');
    fs.writeFileSync(vmdk, Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(100000)]));
    const bad = await upload('vm', vmdk);
    expect(bad.status).toBe(415);
    expect(bad.body).toMatchObject({ code: 'CC_ERR_DISK_IMAGE_FORMAT' });
    expect(bad.body.fix).toMatch(/qemu-img convert/);
    expect((await upload('sample', raw)).status).toBe(409);
    const files = await fetch(`${t.adminUrl}/api/v1/images/sample/files/disk.raw.zst`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/octet-stream' },
      body: 'overwrite',
    });
    expect(files.status).toBe(409);
    const served = Buffer.from(await (await fetch(`${t.nodeUrl}/images/sample/disk.raw.zst`)).arrayBuffer());
    expect(sha(served)).toBe((await t.admin('GET', '/api/v1/images')).body.images[0].disk.stored_sha256);
  });

  it('needs credentials, the octet-stream type and a known first_boot value', async () => {
    expect((await upload('anon', raw, '', {})).status).toBe(401);
    const json = await fetch(`${t.adminUrl}/api/v1/images/j/disk`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415); // uploads take application/octet-stream only, like every raw-body route
    expect((await upload('q', raw, '?first_boot=ignition')).status).toBe(400);
    expect((await upload('q', raw, '?other=1')).status).toBe(400);
  });

  it('an upload cut off halfway leaves no image and no staging files', async () => {
    const size = fs.statSync(raw).size;
    await new Promise<void>((resolve) => {
      const req = http.request(`${t.adminUrl}/api/v1/images/cut/disk`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      const fd = fs.openSync(raw, 'r');
      const half = Buffer.alloc(size / 2);
      fs.readSync(fd, half, 0, half.length, 0);
      fs.closeSync(fd);
      req.write(half, () => setTimeout(() => req.destroy(), 300));
    });
    // The server notices the closed connection; wait for it to clean up, bounded.
    const stagingDir = path.join(t.dataDir, 'images-staging');
    for (let i = 0; i < 100 && fs.existsSync(stagingDir) && fs.readdirSync(stagingDir).length; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(stagingDir) ? fs.readdirSync(stagingDir) : []).toEqual([]);
    expect(fs.existsSync(path.join(t.dataDir, 'images', 'cut'))).toBe(false);
    expect((await t.admin('GET', '/api/v1/images')).body.images.map((i: { name: string }) => i.name)).toEqual(['sample']);
  });

  it('DELETE removes the image and its file', async () => {
    expect((await t.admin('DELETE', '/api/v1/images/sample')).status).toBe(204);
    expect(fs.existsSync(path.join(t.dataDir, 'images', 'sample'))).toBe(false);
    expect((await fetch(`${t.nodeUrl}/images/sample/disk.raw.zst`)).status).toBe(404);
  });
});
