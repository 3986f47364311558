/**
 * `crashcart prepare --arch arm64` end to end through the real CLI: it takes the arm64 microkernel this run
 * already built (build/out/microkernel-arm64, made once by scripts/ensure-test-deps.sh; nothing is built here)
 * into the data dir, verified against its manifest; then `doctor` and a running appliance see arm64 as ready
 * and the node plane serves /mk/arm64/ with the manifest's sha256. doctor and serve run in a mount namespace
 * where the checkout's build output is empty, so what they find can only be the data dir's copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { killAfter } from '../support/kill-timer.ts';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';

const SLOW = 300_000;
/** One run's most, below SLOW: a hung run is killed and fails its test on the exit status (null). */
const RUN_MAX = 240_000;
const BUILT = path.join(REPO_ROOT, 'build', 'out', 'microkernel-arm64');
const FILES = ['vmlinuz', 'initrd.img'] as const;

/** The manifest's file list of the arm64 build this run made. */
type Manifest = { arch: string; version: string; files: Record<string, { bytes: number; sha256: string }> };

/**
 * A command prefix that runs the rest in a private mount namespace where the checkout's arm64 build output
 * is an empty folder (root: the test runs as root, like the other namespace tests).
 */
function hideBuild(empty: string): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "${empty}" "${BUILT}" && exec "$@"`, 'sh'];
}

/** Run a command to its end, collecting its output. */
function run(cmd: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    killAfter(c, RUN_MAX);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cliArgs = (args: string[]) => [process.execPath, path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args];

describe('crashcart prepare --arch arm64', { timeout: SLOW }, () => {
  let manifest: Manifest;
  let data = '';
  let cache = '';
  let empty = '';
  let a: ProcessAppliance | null = null;

  beforeAll(async () => {
    const text = await fs.readFile(path.join(BUILT, 'manifest.json'), 'utf8').catch(() => {
      throw new Error(`${BUILT}/manifest.json is missing\n  fix: bash scripts/ensure-test-deps.sh (builds the arm64 microkernel once)`);
    });
    manifest = JSON.parse(text) as Manifest;
    data = await tmpDir('cc-prep-arm64-');
    cache = await tmpDir('cc-prep-arm64-cache-');
    // The loaders come from a copy of the checkout's loader cache (pins still checked): no download here.
    const loaders = path.join(REPO_ROOT, 'build', 'out', 'cache', 'loaders');
    await fs.cp(loaders, path.join(cache, 'loaders'), { recursive: true }).catch(() => {
      throw new Error(`${loaders} is missing\n  fix: bash scripts/ensure-test-deps.sh (scripts/fetch-ipxe.sh fills it)`);
    });
    empty = await tmpDir('cc-prep-arm64-empty-');
  });
  afterAll(async () => {
    await a?.stop();
  });

  it('the arm64 build of this run is an arm64 microkernel', () => {
    expect(manifest.arch).toBe('arm64');
    for (const f of FILES) expect(manifest.files[f]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('takes the arm64 build into the data dir, verified, without building; a rerun finds it present', async () => {
    const r = await run(cliArgs(['prepare', '--data-dir', data, '--cache', cache, '--arch', 'arm64']));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/microkernel arm64 +installed/);
    expect(r.stdout + r.stderr).not.toMatch(/microkernel arm64 +building/);
    expect(r.stdout + r.stderr).not.toMatch(/microkernel amd64/); // only the architecture asked for
    for (const f of FILES) {
      const b = await fs.readFile(path.join(data, 'microkernel', 'arm64', f));
      expect(b.length).toBe(manifest.files[f]!.bytes);
      expect(sha256(b)).toBe(manifest.files[f]!.sha256);
    }
    // Building one would have written into the build cache.
    expect(await fs.readdir(cache).then((l) => l.filter((f) => f === 'build' || f === 'microkernel'))).toEqual([]);
    const again = await run(cliArgs(['prepare', '--data-dir', data, '--cache', cache, '--arch', 'arm64']));
    expect(again.stdout).toMatch(/microkernel arm64 +present/);
  });

  it('doctor (checkout build output hidden) says arm64 is ready from the data dir', async () => {
    const d = await run([...hideBuild(empty), ...cliArgs(['doctor', '--data-dir', data])]);
    expect(d.stdout, d.stderr).toMatch(
      new RegExp(`^ {2}ok +microkernel arm64 +${manifest.version.replace(/[.+]/g, '\\$&')}, [\\d.]+ MiB in the data dir, verified$`, 'm'),
    );
    // Without the data dir's copy the same namespace has no arm64 microkernel: the row above is the prepared one.
    const bare = await run([...hideBuild(empty), ...cliArgs(['doctor', '--data-dir', await tmpDir('cc-prep-arm64-bare-')])]);
    expect(bare.stdout).toMatch(/^ {2}WARN +microkernel arm64 +none: arm64 machines cannot be discovered$/m);
  });

  it('a running appliance (build output hidden) reports arm64 ready and serves /mk/arm64/ with the manifest sha256', async () => {
    a = await spawnAppliance([], { dataDir: data, wrap: hideBuild(empty) });
    const auth = { authorization: `Bearer ${await a.token()}` };
    const ready = (await (await fetch(`${a.adminUrl}/api/v1/readiness`, { headers: auth })).json()) as {
      rows: { id: string; status: string; detail: string }[];
    };
    expect(ready.rows.find((r) => r.id === 'microkernel-arm64')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/in the data dir, verified$/),
    });
    for (const f of FILES) {
      const res = await fetch(`${a.nodeUrl}/mk/arm64/${f}`);
      expect(res.status).toBe(200);
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(manifest.files[f]!.sha256);
    }
    const served = JSON.parse(await (await fetch(`${a.nodeUrl}/mk/arm64/manifest.json`)).text()) as Manifest;
    expect(served.arch).toBe('arm64');
    // amd64 is not served from the arm64 folder.
    expect(sha256(new Uint8Array(await (await fetch(`${a.nodeUrl}/mk/vmlinuz`)).arrayBuffer()))).not.toBe(manifest.files.vmlinuz!.sha256);
  });
});
