/**
 * The agent's image-deploy pieces against real peers: a real HTTP server with Range that drops the
 * connection mid-body (the resume must finish the image byte-exact), real zstd, real e2fsprogs debugfs
 * writing the seed into a real ext4 filesystem at an offset, the real tools overlay format; and the
 * root disk choice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync } from 'node:zlib';
import { pickRootDisk, sizeMatches, textMatches, type Disk } from '../../agent/tasks/root-disk.ts';
import { readBackSha256, streamImageToDisk } from '../../agent/tasks/image-stream.ts';
import { writeSeed, SEED_DIR } from '../../agent/tasks/seed-write.ts';
import { parseCpio, unpackTools } from '../../agent/tasks/tools-overlay.ts';
import { runDeploy } from '../../agent/tasks/deploy.ts';
import { renderSeed } from '../../server/deploy/nocloud-seed.ts';
import type { DeployJob, TaskProgress } from '../../contract/agent-tasks.ts';
// @ts-expect-error plain ESM build script without types
import { writeCpio } from '../../build/microkernel/cpio.mjs';

const GIB = 1024 ** 3;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir = '';
let server: http.Server;
let base = '';
/** Requests seen: the Range header of each (null: none). */
const ranges: (string | null)[] = [];
/** Drop the connection after this many body bytes of the next `drops` requests. */
let drops = 0;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  for (const tool of ['zstd', 'debugfs', 'mkfs.ext4'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is missing\n  fix: apt-get install zstd e2fsprogs (scripts/deps/images.txt)`);
    }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-deploy-unit-'));
  server = http.createServer((req, res) => {
    const body = files.get(req.url ?? '');
    ranges.push((req.headers.range as string | undefined) ?? null);
    if (!body) return res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec((req.headers.range as string | undefined) ?? '');
    const start = m ? Number(m[1]) : 0;
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': part.length,
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (drops > 0) {
      drops--;
      // Half the rest, then the connection dies (what an nftables reject mid-stream looks like to the client).
      res.write(part.subarray(0, Math.floor(part.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A raw image (half random, half zeros) and its zstd form, served at /img/NAME. */
function image(name: string, size = 6 << 20): { raw: Buffer; zst: Buffer; url: string } {
  const raw = Buffer.concat([randomBytes(size / 2), Buffer.alloc(size / 2)]);
  const zst = execFileSync('zstd', ['-q', '-c', '-1'], { input: raw, maxBuffer: 1 << 28 });
  files.set(`/img/${name}`, zst);
  return { raw, zst, url: `${base}/img/${name}` };
}

function diskFile(name: string, size: number): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, '');
  fs.truncateSync(f, size);
  return f;
}

describe('streaming an image to a disk', () => {
  it('resumes a dropped download with Range and writes the image byte-exact', async () => {
    const img = image('resume');
    const disk = diskFile('resume.disk', 16 << 20);
    ranges.length = 0;
    drops = 2;
    const resumed: number[] = [];
    const r = await streamImageToDisk({
      url: img.url,
      storedSize: img.zst.length,
      storedSha256: sha(img.zst),
      size: img.raw.length,
      diskPath: disk,
      onResume: (off) => resumed.push(off),
    });
    expect(r.resumes).toBe(2);
    expect(r.written).toBe(img.raw.length);
    // The first request had no Range; each resume asked for the rest from where the last one broke.
    expect(ranges[0]).toBeNull();
    expect(ranges.slice(1)).toEqual(resumed.map((o) => `bytes=${o}-`));
    expect(resumed[0]).toBeGreaterThan(0);
    expect(resumed[1]).toBeGreaterThan(resumed[0]!);
    expect(await readBackSha256(disk, img.raw.length)).toBe(sha(img.raw));
    // Nothing past the image was touched.
    expect(
      fs
        .readFileSync(disk)
        .subarray(img.raw.length)
        .every((b) => b === 0),
    ).toBe(true);
  });

  it('fails with checksum-mismatch when the stored file is not the recorded one', async () => {
    const img = image('corrupt');
    const bad = Buffer.from(img.zst);
    bad[Math.floor(bad.length / 2)]! ^= 0xff;
    files.set('/img/corrupt', bad);
    const disk = diskFile('corrupt.disk', 16 << 20);
    await expect(
      streamImageToDisk({ url: img.url, storedSize: img.zst.length, storedSha256: sha(img.zst), size: img.raw.length, diskPath: disk }),
    ).rejects.toMatchObject({ code: 'checksum-mismatch' });
  });

  it('fails with download-failed on a missing image, with write-error on a disk it cannot write', async () => {
    const img = image('there');
    await expect(
      streamImageToDisk({
        url: `${base}/img/absent`,
        storedSize: 10,
        storedSha256: '0'.repeat(64),
        size: 10,
        diskPath: diskFile('x.disk', 1 << 20),
      }),
    ).rejects.toMatchObject({ code: 'download-failed' });
    await expect(
      streamImageToDisk({
        url: img.url,
        storedSize: img.zst.length,
        storedSha256: sha(img.zst),
        size: img.raw.length,
        diskPath: path.join(dir, 'no-such-dir', 'disk'),
      }),
    ).rejects.toMatchObject({ code: 'write-error' });
  });
});

describe('choosing the root disk', () => {
  const disks: Disk[] = [
    { name: 'sda', path: '/dev/sda', size: 480 * GIB, model: 'INTEL SSDSC2KB48', serial: 'BTYF1234', rotational: false },
    {
      name: 'sdb',
      path: '/dev/sdb',
      size: 4000 * GIB,
      model: 'ST4000NM0035',
      serial: 'ZC1XYZ',
      wwn: '0x5000c500a1b2c3d4',
      rotational: true,
    },
    { name: 'vda', path: '/dev/vda', size: 1 * GIB },
  ];
  it('takes the smallest disk the image fits by default, and refuses with the disks when none fits', () => {
    const c = pickRootDisk(disks, null, 2 * GIB);
    expect(c).toMatchObject({ ok: true, disk: { name: 'sda' } });
    const none = pickRootDisk(disks.slice(2), null, 2 * GIB);
    expect(none.ok).toBe(false);
    expect(none.ok ? '' : none.reason).toMatch(/no disk holds the image .* vda \(1\.0 GiB\)/);
  });
  it('follows Ironic-style hints: size operators, model substring, serial, wwn, path, rotational', () => {
    expect(pickRootDisk(disks, { size: '>= 1000' }, GIB)).toMatchObject({ ok: true, disk: { name: 'sdb' } });
    expect(pickRootDisk(disks, { model: '<in> st4000' }, GIB)).toMatchObject({ ok: true, disk: { name: 'sdb' } });
    expect(pickRootDisk(disks, { serial: ' btyf1234 ' }, GIB)).toMatchObject({ ok: true, disk: { name: 'sda' } });
    expect(pickRootDisk(disks, { wwn: '0x5000C500A1B2C3D4' }, GIB)).toMatchObject({ ok: true, disk: { name: 'sdb' } });
    expect(pickRootDisk(disks, { path: '/dev/vda' }, 512)).toMatchObject({ ok: true, disk: { name: 'vda' } });
    expect(pickRootDisk(disks, { rotational: true }, GIB)).toMatchObject({ ok: true, disk: { name: 'sdb' } });
    const small = pickRootDisk(disks, { path: 'vda' }, 2 * GIB);
    expect(small.ok ? '' : small.reason).toMatch(/smaller than the image/);
    const nomatch = pickRootDisk(disks, { serial: 'nope' }, GIB);
    expect(nomatch.ok ? '' : nomatch.reason).toMatch(/no disk matches the root device hints/);
    expect(sizeMatches(480, 480 * GIB)).toBe(true);
    expect(sizeMatches('< 480', 480 * GIB)).toBe(false);
    expect(sizeMatches('bogus', 480 * GIB)).toBe(false);
    expect(textMatches('x', undefined)).toBe(false);
  });
  it('a deploy to a machine whose disks are all too small fails with no-fitting-disk before any download', async () => {
    ranges.length = 0;
    const job = {
      kind: 'image-deploy',
      job_id: 'job-small-1',
      image: { name: 'x', size: 4 * GIB },
      root_device: null,
      seed: null,
    } as unknown as DeployJob;
    await expect(
      runDeploy(job, { disks: () => disks.slice(2), progress: async () => undefined, log: () => undefined, imageUrl: `${base}/img/there` }),
    ).rejects.toMatchObject({ code: 'no-fitting-disk' });
    expect(ranges).toEqual([]);
  });
});

describe('the NoCloud seed and the tools overlay', () => {
  it('writes the seed into an ext4 filesystem at a byte offset of the disk, readable back by e2fsprogs', () => {
    const fsImg = path.join(dir, 'root.ext4');
    fs.writeFileSync(fsImg, '');
    fs.truncateSync(fsImg, 32 << 20);
    execFileSync('mkfs.ext4', ['-q', '-F', fsImg]);
    const disk = diskFile('seeded.disk', 40 << 20);
    const offset = 3 << 20;
    const fd = fs.openSync(disk, 'r+');
    fs.writeSync(fd, fs.readFileSync(fsImg), 0, 32 << 20, offset);
    fs.closeSync(fd);
    const seed = renderSeed({
      nodeId: 7,
      jobId: 'job-seed-1',
      hostname: 'web-7.rack.example',
      bootMac: '52:54:00:12:34:56',
      sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx test@example', 'not a key'],
      rootPasswordHash: '$6$salt$hash',
      stageUrl: 'http://10.0.0.1:8026/api/v1/nodes/7/stage?token=abc',
    });
    writeSeed(disk, offset, seed);
    const cat = (f: string) =>
      execFileSync('debugfs', ['-R', `cat ${SEED_DIR}/${f}`, `${disk}?offset=${offset}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    expect(cat('meta-data')).toBe(seed.meta_data);
    const user = cat('user-data');
    expect(user.startsWith('#cloud-config\n')).toBe(true);
    const u = JSON.parse(user.slice(user.indexOf('\n') + 1)) as Record<string, unknown>;
    expect(u['hostname']).toBe('web-7');
    expect(u['fqdn']).toBe('web-7.rack.example');
    expect(u['ssh_authorized_keys']).toEqual(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx test@example']);
    expect(JSON.stringify(u['runcmd'])).toContain('stage?token=abc&name=installed');
    expect(JSON.parse(cat('network-config'))).toMatchObject({ ethernets: { boot0: { match: { macaddress: '52:54:00:12:34:56' } } } });
    // A filesystem that is not there is a seed failure, not a silent success.
    expect(() => writeSeed(disk, 0, seed)).toThrow(/seed/);
  });

  it('keeps node text out of the seed: a hostname that is not one becomes node<ID>', () => {
    const s = renderSeed({
      nodeId: 3,
      jobId: 'j',
      hostname: 'x\nruncmd: [reboot]',
      bootMac: 'zz',
      sshKeys: [],
      rootPasswordHash: 'x y',
      stageUrl: 'http://a/s?token=t',
    });
    expect(JSON.parse(s.meta_data)['local-hostname']).toBe('node3');
    expect(s.user_data).not.toContain('reboot]');
    expect(s.user_data).not.toContain('chpasswd');
    expect(JSON.parse(s.network_config)).toEqual({ version: 2, ethernets: {} });
  });

  it('unpacks the brotli cpio overlay after checking its sha256, refusing escaping paths', () => {
    const entries = [
      { path: 'usr', type: 'dir', mode: 0o755 },
      { path: 'usr/bin/zstd', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\necho zstd\n') },
      { path: 'usr/lib/libz.so.1', type: 'symlink', mode: 0o777, target: 'libz.so.1.2.13' },
    ];
    const img = brotliCompressSync(writeCpio(entries, 0) as Buffer);
    const root = fs.mkdtempSync(path.join(dir, 'root-'));
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    expect(unpackTools(img, { sha256: sha(img) }, root)).toEqual({ files: 1, bytes: 20 });
    expect(fs.statSync(path.join(root, 'usr/bin/zstd')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(root, 'usr/lib/libz.so.1'))).toBe('libz.so.1.2.13');
    expect(() => unpackTools(img, { sha256: '0'.repeat(64) }, root)).toThrow(/sha256/);
    const evil = brotliCompressSync(
      writeCpio([{ path: '../../etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('x') }], 0) as Buffer,
    );
    expect(() => unpackTools(evil, { sha256: sha(evil) }, root)).toThrow(/refused member path/);
    expect(() => parseCpio(Buffer.from('070701garbage'))).toThrow(/cpio/);
  });
});

describe('progress', () => {
  it('is batched: many chunks, few reports, with MB/s and ETA', async () => {
    const { ProgressMeter } = await import('../../agent/tasks/progress.ts');
    const sent: TaskProgress[] = [];
    let t = 0;
    const m = new ProgressMeter(
      'write',
      1000,
      async (p) => void sent.push(p),
      'vda',
      2000,
      () => t,
    );
    for (let i = 1; i <= 100; i++) {
      t = i * 100;
      m.tick(i * 5);
    }
    const last = await m.finish(500);
    expect(sent.length).toBeLessThan(10);
    expect(last).toMatchObject({ phase: 'write', bytes_done: 500, bytes_total: 1000, percent: 50, detail: 'vda' });
    expect(last.eta_s).toBe(10);
  });
});
