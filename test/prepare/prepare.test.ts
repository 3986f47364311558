/**
 * `crashcart prepare`: the registry entries on their own (microkernel source choice and build, images
 * and their recipe hook), then the real command: into an empty data dir, again (nothing rewritten),
 * after damage (repaired), and through a running appliance, whose pinned loader upload refuses every
 * other byte. Loaders come from a copy of the checkout's loader cache (no network); the microkernel
 * from the checkout's build output (the build itself: test/e2e/field-ready.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { killAfter } from '../support/kill-timer.ts';
import { HashCache } from '../../server/prepare/inventory/hash-cache.ts';
import { inspectPrepared } from '../../server/prepare/inventory/prepared.ts';
import { localTarget } from '../../server/prepare/targets.ts';
import { microkernelArtifact } from '../../server/prepare/microkernel-entry.ts';
import { imageArtifact, type ImageRecipe } from '../../server/prepare/image-entry.ts';
import { buildSupport } from '../../server/prepare/microkernel-build.ts';
import type { LineUpdate, PrepareEnv } from '../../server/prepare/artifact.ts';
import { LOADERS } from '../../server/prepare/loaders/registry.ts';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { writeMicrokernel } from '../bundle/support.ts';
import { fakeBuildRoot } from './fake-build.ts';

/** The real CLI, asynchronously (the machine is shared: these runs take seconds to minutes). */
const cli = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    killAfter(c, RUN_MAX);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('close', (status) => resolve({ status, stdout, stderr }));
  });
/** CLI runs on a loaded machine: minutes, not the default minute. */
const SLOW = 300_000;
/** One run's most, below SLOW: a hung run is killed and fails its test on the exit status (null). */
const RUN_MAX = 240_000;

/** A prepare cache holding a copy of the checkout's loader cache: no download, no shared lock. */
async function loaderCache(): Promise<string> {
  const from = path.join(REPO_ROOT, 'build', 'out', 'cache', 'loaders');
  const c = await tmpDir('cc-prep-cache-');
  await fs.cp(from, path.join(c, 'loaders'), { recursive: true }).catch(() => {
    throw new Error(`${from} is missing\n  fix: bash scripts/ensure-test-deps.sh (scripts/fetch-ipxe.sh fills it)`);
  });
  return c;
}

async function env(dataDir: string, root: string, over: Partial<PrepareEnv> = {}): Promise<PrepareEnv & { lines: [string, LineUpdate][] }> {
  const target = localTarget(dataDir);
  const lines: [string, LineUpdate][] = [];
  const cache = await tmpDir('cc-prep-envcache-');
  return {
    target,
    prepared: await target.prepared(),
    root,
    cacheDir: cache,
    buildCacheDir: path.join(cache, 'build'),
    rebuild: false,
    hashes: new HashCache(),
    progress: (id, u) => void lines.push([id, u]),
    lines,
    ...over,
  };
}

describe('microkernel entry', () => {
  it('builds with the build script when nothing verified exists (agent bundled first), then is present', async () => {
    const root = await fakeBuildRoot({ multiArch: false });
    const d = await tmpDir('cc-prep-mk-');
    const e = await env(d, root);
    const r = await microkernelArtifact('amd64').run(e);
    expect(r).toMatchObject({ status: 'installed', detail: expect.stringMatching(/^fake-amd64, .* built, verified$/) });
    const args = JSON.parse(await fs.readFile(path.join(e.buildCacheDir, 'args.json'), 'utf8')) as string[];
    expect(args).toEqual(['--out', path.join(e.cacheDir, 'microkernel', 'amd64'), '--cache', e.buildCacheDir]);
    expect(e.lines.map(([, u]) => u.state)).toEqual(expect.arrayContaining(['checking', 'building', 'installing', 'installed']));
    expect(e.lines.some(([, u]) => u.detail === 'resolving packages')).toBe(true); // the build's own steps show on the line
    await fs.access(path.join(root, 'build', 'out', 'agent', 'crashcart-agent.mjs'));
    expect((await inspectPrepared(d, new HashCache())).microkernels[0]).toMatchObject({
      arch: 'amd64',
      status: 'verified',
      version: 'fake-amd64',
    });
    expect((await microkernelArtifact('amd64').run(await env(d, root))).status).toBe('present');
    expect((await microkernelArtifact('amd64').run(await env(d, root, { rebuild: true }))).status).toBe('installed');
  });

  it('prefers a verified microkernel a package ships over building', async () => {
    const root = await fakeBuildRoot({ multiArch: false });
    await writeMicrokernel(path.join(root, 'resources', 'microkernel', 'amd64'), 'shipped-1');
    const d = await tmpDir('cc-prep-mk-');
    const e = await env(d, root);
    expect(await microkernelArtifact('amd64').run(e)).toMatchObject({
      status: 'installed',
      detail: expect.stringContaining('shipped-1, 0.1 MiB, copied from this package'),
    });
    await expect(fs.access(path.join(e.buildCacheDir, 'args.json'))).rejects.toThrow();
  });

  it('arm64: unavailable with the single-architecture build, built with --arch arm64 by the reshaped one', async () => {
    const single = await fakeBuildRoot({ multiArch: false });
    expect(buildSupport(single).arches).toEqual(['amd64']);
    const d = await tmpDir('cc-prep-arm-');
    const r = await microkernelArtifact('arm64').run(await env(d, single));
    expect(r).toMatchObject({ status: 'unavailable', error: { code: 'CC_ERR_PREPARE_UNAVAILABLE' } });
    expect(r.detail).toMatch(/makes amd64 only/);
    const multi = await fakeBuildRoot({ multiArch: true });
    expect(buildSupport(multi).arches).toEqual(['amd64', 'arm64']);
    const e = await env(d, multi);
    expect((await microkernelArtifact('arm64').run(e)).status).toBe('installed');
    expect(JSON.parse(await fs.readFile(path.join(e.buildCacheDir, 'args.json'), 'utf8'))).toContain('arm64');
    await fs.access(path.join(d, 'microkernel', 'arm64', 'vmlinuz'));
    expect(buildSupport(await tmpDir('cc-no-build-')).why.amd64).toMatch(/package ships its microkernel/);
  });

  it("a failing build is a failed entry with the build's last lines; the data dir stays without a microkernel", async () => {
    const root = await fakeBuildRoot({ multiArch: false, fail: true });
    const d = await tmpDir('cc-prep-fail-');
    const r = await microkernelArtifact('amd64').run(await env(d, root));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'CC_ERR_MICROKERNEL_BUILD' } });
    expect(r.detail).toMatch(/dpkg-deb is not installed/);
    expect((await inspectPrepared(d, new HashCache())).microkernels[0]!.status).toBe('missing');
  });
});

describe('image entries', () => {
  it('present when the data dir has it; otherwise its recipe makes it; without one, unavailable with the import fix', async () => {
    const d = await tmpDir('cc-prep-img-');
    await fs.mkdir(path.join(d, 'images', 'debian12'), { recursive: true });
    await fs.writeFile(path.join(d, 'images', 'debian12', 'disk.raw.zst'), Buffer.alloc(1000));
    expect(await imageArtifact('debian12').run(await env(d, REPO_ROOT))).toMatchObject({ status: 'present', bytes: 1000 });
    const none = await imageArtifact('ubuntu').run(await env(d, REPO_ROOT));
    expect(none).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('crashcart image import --name ubuntu') });
    const made: string[] = [];
    const recipe: ImageRecipe = { name: 'ubuntu', needsRoot: true, make: async (_e, id) => (made.push(id), { detail: 'built', bytes: 5 }) };
    const entry = imageArtifact('ubuntu', new Map([['ubuntu', recipe]]));
    expect(entry.needsRoot).toBe(true);
    expect(await entry.run(await env(d, REPO_ROOT))).toMatchObject({ status: 'installed', bytes: 5 });
    expect(made).toEqual(['image:ubuntu']);
  });
});

describe('crashcart prepare on a data dir', { timeout: SLOW }, () => {
  let cache = '';
  let d = '';
  beforeAll(async () => {
    cache = await loaderCache();
    d = await tmpDir('cc-prep-cli-');
  });

  it('fills an empty data dir: every loader verified against its pin, the microkernel, a summary; no root needed', async () => {
    const r = await cli(['prepare', '--data-dir', d, '--cache', cache]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Prepared in data dir /);
    for (const l of [
      'loader x86 BIOS',
      'loader x86_64 UEFI ',
      'loader x86_64 UEFI Secure Boot',
      'loader arm64 UEFI Secure Boot',
      'microkernel amd64',
    ])
      expect(r.stdout).toMatch(new RegExp(`${l.trim()} +installed`));
    expect(r.stdout).toContain('Nothing here needed root');
    expect(r.stderr).toMatch(/loader x86 BIOS +downloading|loader x86 BIOS +unpack|loader x86 BIOS +install/); // one line per artifact as it runs
    const p = await inspectPrepared(d, new HashCache());
    expect(p.loaders.every((l) => l.ready)).toBe(true);
    expect(p.microkernels.find((m) => m.arch === 'amd64')?.status).toBe('verified');
  });

  it('a second run checks, reports present and rewrites nothing', async () => {
    const files = [
      ...LOADERS.flatMap((a) => a.files.map((f) => path.join(d, 'loaders', f.name))),
      path.join(d, 'microkernel', 'amd64', 'initrd.img'),
    ];
    const before = await Promise.all(files.map(async (f) => (await fs.stat(f)).mtimeMs));
    const r = await cli(['prepare', '--data-dir', d, '--cache', cache]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/ present /g)?.length).toBe(5);
    expect(await Promise.all(files.map(async (f) => (await fs.stat(f)).mtimeMs))).toEqual(before);
  });

  it('repairs what was damaged and leaves the rest', async () => {
    await fs.appendFile(path.join(d, 'loaders', 'ipxe.efi'), 'tampered');
    await fs.truncate(path.join(d, 'microkernel', 'amd64', 'initrd.img'), 1000);
    const r = await cli(['prepare', '--data-dir', d, '--cache', cache]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/loader x86_64 UEFI +installed/);
    expect(r.stdout).toMatch(/loader x86 BIOS +present/);
    expect(r.stdout).toMatch(/microkernel amd64 +installed/);
    const p = await inspectPrepared(d, new HashCache());
    expect(p.loaders.every((l) => l.ready) && p.microkernels[0]!.status === 'verified').toBe(true);
  });

  it('an image nothing can make: exit 1, the summary names the fix', async () => {
    const r = await cli(['prepare', '--data-dir', d, '--cache', cache, '--image', 'nope']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/image nope +unavailable .*crashcart image import --name nope/);
    expect(r.stdout).toMatch(/fix: Prepare it in a source checkout/);
    expect(r.stdout).toMatch(/Not ready: 1 artifact/);
  });

  it('refuses a bad flag with the fix', async () => {
    const r = await cli(['prepare', '--data-dir', d, '--arch', 'sparc']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CC_ERR_CONFIG_INVALID: .*--arch takes amd64, arm64/);
  });
});

describe('crashcart prepare while an appliance holds the data dir', { timeout: SLOW }, () => {
  let a: ProcessAppliance;
  let cache = '';
  const api = async (p: string, init: RequestInit = {}) =>
    fetch(`${a.adminUrl}${p}`, { ...init, headers: { authorization: `Bearer ${await a.token()}`, ...(init.headers ?? {}) } });
  beforeAll(async () => {
    cache = await loaderCache();
    a = await spawnAppliance([]);
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('goes through the admin API; the appliance serves what it installed at once', async () => {
    const r = await cli(['prepare', '--data-dir', a.dataDir, '--cache', cache]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`preparing through ${a.adminUrl}`);
    expect(r.stdout).toContain(`Prepared in the appliance at ${a.adminUrl}`);
    const p = (await (await api('/api/v1/prepared')).json()) as {
      loaders: { ready: boolean }[];
      microkernels: { arch: string; status: string }[];
    };
    expect(p.loaders.every((l) => l.ready)).toBe(true);
    expect(p.microkernels.find((m) => m.arch === 'amd64')?.status).toBe('verified');
    const ev = (await (await api('/api/v1/events?type=loader.installed')).json()) as { events: unknown[] };
    expect(ev.events).toHaveLength(7);
    const mk = (await (await api('/api/v1/events?type=microkernel.installed')).json()) as { events: { message: string }[] };
    expect(mk.events[0]!.message).toMatch(/\(amd64\) installed/);
    const served = Buffer.from(await (await fetch(`${a.nodeUrl}/ipxe/grubaa64.efi`)).arrayBuffer());
    expect(served).toEqual(await fs.readFile(path.join(a.dataDir, 'loaders', 'grubaa64.efi')));
    const again = await cli(['prepare', '--data-dir', a.dataDir, '--cache', cache]);
    expect(again.stdout.match(/ present /g)?.length).toBe(5);
    expect(((await (await api('/api/v1/events?type=loader.installed')).json()) as { events: unknown[] }).events).toHaveLength(7);
  });

  it('the loader upload takes only the pinned bytes under a registry name; a refused upload leaves the good file', async () => {
    const good = await fs.readFile(path.join(a.dataDir, 'loaders', 'undionly.kpxe'));
    const put = (name: string, body: Uint8Array) =>
      api(`/api/v1/loaders/${name}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    const evil = Buffer.from(good);
    evil[100] = evil[100]! ^ 0xff;
    const r1 = await put('undionly.kpxe', evil);
    expect(r1.status).toBe(502);
    expect(((await r1.json()) as { code: string }).code).toBe('CC_ERR_LOADER_CHECKSUM');
    const r2 = await put('undionly.kpxe', Buffer.concat([good, Buffer.from('more')]));
    expect(((await r2.json()) as { code: string; message: string }).message).toMatch(/more than the pinned/);
    expect((await put('payload.efi', good)).status).toBe(404);
    expect((await put('..%2fadmin-token', good)).status).toBe(400);
    expect(await fs.readFile(path.join(a.dataDir, 'loaders', 'undionly.kpxe'))).toEqual(good);
    expect((await fs.readdir(path.join(a.dataDir, 'loaders'))).filter((f) => f.startsWith('.'))).toEqual([]);
    expect((await put('undionly.kpxe', good)).status).toBe(200);
  });

  it('a body past the pin whose end comes later is refused with the error on the same connection', async () => {
    // The bytes past the pin arrive in one write and the body's end 0.3 s later: the refusal is answered on the
    // connection, whether or not the rest of the body has come.
    const good = await fs.readFile(path.join(a.dataDir, 'loaders', 'undionly.kpxe'));
    const token = await a.token();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${a.adminUrl}/api/v1/loaders/undionly.kpxe`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.write(Buffer.concat([good, Buffer.from('more')]));
      setTimeout(() => req.end(Buffer.alloc(1000)), 300);
    });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({
      code: 'CC_ERR_LOADER_CHECKSUM',
      message: expect.stringMatching(/more than the pinned/),
    });
    expect(await fs.readFile(path.join(a.dataDir, 'loaders', 'undionly.kpxe'))).toEqual(good);
    expect((await fs.readdir(path.join(a.dataDir, 'loaders'))).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('GET /api/v1/readiness answers with the same rows doctor prints', async () => {
    const r = (await (await api('/api/v1/readiness')).json()) as { ready: boolean; mode: string; rows: { id: string; status: string }[] };
    expect(r.mode).toBe('lab');
    expect(r.rows.find((x) => x.id === 'loader-shim-grub-arm64')?.status).toBe('ok');
    expect(r.rows.find((x) => x.id === 'port-http')?.status).toBe('ok');
    const d = await cli(['doctor', '--data-dir', a.dataDir]);
    expect(d.stdout).toContain(`as the appliance running on ${a.dataDir} sees it (${a.adminUrl})`);
    expect(d.stdout).toMatch(/ok {4}arm64 UEFI Secure Boot +shimaa64\.efi verified \(in the data dir\)/);
  });
});
