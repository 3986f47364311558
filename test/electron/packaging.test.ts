/**
 * The Electron packages as far as they can be checked without downloading Electron: electron-builder.yml against
 * the documented options (electron/packaging/builder-schema.ts), every source it names present after the build
 * steps, the core's run-time modules unpacked, no system nodejs and no capability for Electron; then the
 * packaged layout that configuration produces (resources/app.asar, app.asar.unpacked, the pinned node from
 * extraResources) is staged, and the shell, with `electron` mocked, starts the core child from it exactly as
 * the packaged app does (main.ts: shellConfigFrom(process.env, userData, __dirname inside app.asar)), which
 * answers the API with the loaders and microkernel the package carries.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { MICROKERNEL_FILES } from '../../contract/images.ts';
import { validateBuilderConfig, type BuilderConfig, type BuilderFileSet } from '../../electron/packaging/builder-schema.ts';
import { PACKAGED_NODE, shellConfigFrom } from '../../electron/main-config.ts';
import { tmpDir } from '../support/appliance.ts';

/** What the mocked Electron was asked to show: window URLs and preload paths, error dialogs. */
const shown = vi.hoisted(() => ({ urls: [] as string[], preloads: [] as string[], errors: [] as string[] }));
vi.mock('electron', () => {
  const contents = () => ({ id: 7, on: () => undefined, setWindowOpenHandler: () => undefined });
  class BrowserWindow {
    webContents = contents();
    constructor(o: { webPreferences: { preload: string } }) {
      shown.preloads.push(o.webPreferences.preload);
    }
    once(): void {}
    show(): void {}
    async loadURL(u: string): Promise<void> {
      shown.urls.push(u);
    }
  }
  class Tray {
    setImage(): void {}
    setToolTip(): void {}
    setContextMenu(): void {}
    destroy(): void {}
  }
  return {
    app: { on: () => undefined, quit: () => undefined, getPath: () => '/unused' },
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: unknown) => t },
    nativeImage: { createFromPath: (p: string) => p },
    ipcMain: { handle: () => undefined, removeHandler: () => undefined },
    shell: { openExternal: async () => undefined },
    dialog: { showErrorBox: (_t: string, body: string) => void shown.errors.push(body) },
    session: { defaultSession: {} },
    net: { fetch },
  };
});

const SLOW = 10 * 60_000;
/** The core bundle is rebuilt under the build lock, which a package build may hold for minutes. */
const LOCKED = 40 * 60_000;
const raw = () => parse(fs.readFileSync(path.join(REPO_ROOT, 'electron-builder.yml'), 'utf8')) as unknown;
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** electron-builder's glob for what we use: `dir/**` (everything under dir) or an exact path. */
function globMatches(glob: string, rel: string): boolean {
  return glob.endsWith('/**') ? rel === glob.slice(0, -3) || rel.startsWith(glob.slice(0, -2)) : rel === glob;
}

let config: BuilderConfig;
let runtime: Set<string>;

beforeAll(async () => {
  const v = validateBuilderConfig(raw());
  if (!v.ok) throw new Error(`electron-builder.yml: ${v.problems.join('; ')}`);
  config = v.config;
  // The build steps the release runs before electron-builder (electron-builder.yml, header): the shell, the core
  // bundle (under the build lock: the package build writes dist/ too) and the pinned runtime.
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'electron', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
  const core = spawnSync('flock', ['/tmp/cc-build.lock', process.execPath, path.join(REPO_ROOT, 'build', 'build.mjs'), '--core-only'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: LOCKED,
  });
  if (core.status !== 0) throw new Error(`build/build.mjs --core-only failed:\n${core.stdout}${core.stderr}`);
  const node = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'build', 'pinned-node.mjs'), '--out', path.join(REPO_ROOT, 'build', 'out', 'electron-node')],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  if (node.status !== 0) throw new Error(`build/pinned-node.mjs failed:\n${node.stdout}${node.stderr}`);
  const { runtimeModules } = (await import(path.join(REPO_ROOT, 'build', 'runtime-deps.mjs'))) as {
    runtimeModules: (root: string) => Set<string>;
  };
  runtime = runtimeModules(REPO_ROOT);
}, LOCKED);

describe('electron-builder.yml', () => {
  it('follows the documented options; a misspelt or unknown key, a bad target or FileSet is refused', () => {
    const base = raw() as Record<string, unknown>;
    expect(validateBuilderConfig(base).ok).toBe(true);
    const bad = (v: unknown) => {
      const r = validateBuilderConfig(v);
      return r.ok ? [] : r.problems;
    };
    expect(bad({ ...base, extraResource: [] })).not.toEqual([]);
    expect(bad({ ...base, linux: { ...(base.linux as object), target: ['AppImg'] } })).not.toEqual([]);
    expect(bad({ ...base, files: [{ form: 'bin', to: 'bin' }] })).not.toEqual([]);
    expect(bad({ ...base, deb: { dependencies: ['x'] } })).not.toEqual([]);
    expect(bad({ ...base, appId: 'crashcart' })).not.toEqual([]);
  });

  it('names only sources that exist after the build steps (files, FileSet filters, extraResources, icon, scripts)', () => {
    const missing: string[] = [];
    const need = (rel: string) => void (fs.existsSync(path.join(REPO_ROOT, rel)) || missing.push(rel));
    for (const f of list(config.files))
      if (typeof f === 'string') {
        if (!f.startsWith('!')) need(f.replace(/\/\*\*$/, ''));
      } else for (const x of list(f.filter)) need(path.join(f.from ?? '', x));
    for (const f of list(config.extraResources)) need(typeof f === 'string' ? f : f.from!);
    need(config.linux.icon!);
    need(config.deb!.afterInstall!);
    need(config.extraMetadata!.main as string);
    expect(missing).toEqual([]);
  });

  it('carries a pinned node for the core, not the system nodejs; the core files and its run-time modules are unpacked', () => {
    expect(config.deb?.depends?.some((d) => /^nodejs\b/.test(d))).toBe(false);
    const extra = list(config.extraResources).filter((f): f is BuilderFileSet => typeof f !== 'string');
    expect(extra).toContainEqual({ from: 'build/out/electron-node/bin/node', to: PACKAGED_NODE });
    expect(
      execFileSync(path.join(REPO_ROOT, 'build', 'out', 'electron-node', 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim(),
    ).toBe('v20.20.2');
    const unpack = list(config.asarUnpack);
    const unpacked = (rel: string) => unpack.some((g) => globMatches(g, rel));
    for (const rel of [
      'bin/crashcart.mjs',
      'bin/launch.mjs',
      'bin/v8-flags.mjs',
      'build/out/native/crashcart-reexec-linux-x64.node',
      'dist/crashcart.mjs',
      'renderer/dist/index.html',
      'resources/ipxe/undionly.kpxe',
      'resources/microkernel/amd64/initrd.img',
      'build/out/native/crashcart-sendfile-linux-x64.node',
      'build/out/native/crashcart-tftp-pump-linux-x64.node',
      'build/out/native/crashcart-udp-batch-linux-x64.node',
      'build/out/native/crashcart-sched-policy-linux-x64.node',
      'build/out/native/crashcart-fsync-thread-linux-x64.node',
    ])
      expect(unpacked(rel), rel).toBe(true);
    for (const dir of runtime) expect(unpacked(path.join(path.relative(REPO_ROOT, dir), 'package.json')), dir).toBe(true);
    // The microkernel goes where the core looks for a package's copy (server/prepare/layout.ts).
    expect(list(config.files)).toContainEqual(
      expect.objectContaining({ from: 'build/out/microkernel', to: 'resources/microkernel/amd64' }),
    );
    // Every file of a microkernel, vmlinuz-zstd (what iPXE boots) included.
    const mk = list(config.files).find((f): f is BuilderFileSet => typeof f === 'object' && f.from === 'build/out/microkernel');
    expect(list(mk?.filter)).toEqual(expect.arrayContaining([...MICROKERNEL_FILES]));
  });

  it('never gives Electron network capabilities: the install script sets none', () => {
    const script = fs.readFileSync(path.join(REPO_ROOT, config.deb!.afterInstall!), 'utf8');
    const commands = script.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(commands.filter((l) => /setcap|chmod\s+[ug]?\+s/.test(l))).toEqual([]);
  });
});

describe('the packaged layout', () => {
  let res = '';
  let data = '';
  let running: { stop: () => Promise<void> } | null = null;

  /** Copy `from` (repo relative) into the staged app: app.asar.unpacked when asarUnpack matches, else app.asar. */
  function place(from: string, to: string, filter: string[] = []): void {
    const src = path.join(REPO_ROOT, from);
    const files = filter.length ? filter.map((f) => [path.join(src, f), path.join(to, f)] as const) : [[src, to] as const];
    for (const [s, rel] of files) {
      const unpacked = list(config.asarUnpack).some((g) => globMatches(g, rel) || globMatches(g, `${rel}/x`));
      fs.cpSync(s, path.join(res, unpacked ? 'app.asar.unpacked' : 'app.asar', rel), { recursive: true, dereference: true });
    }
  }

  beforeAll(async () => {
    res = path.join(await tmpDir('cc-electron-pkg-'), 'Crashcart', 'resources');
    data = await tmpDir('cc-electron-pkg-data-');
    for (const f of list(config.files)) {
      if (typeof f === 'string') {
        if (!f.startsWith('!')) place(f.replace(/\/\*\*$/, ''), f.replace(/\/\*\*$/, ''));
      } else place(f.from!, f.to!, list(f.filter));
    }
    // electron-builder adds the production dependencies; the core needs the ones it require()s.
    for (const dir of runtime) place(path.relative(REPO_ROOT, dir), path.relative(REPO_ROOT, dir));
    for (const f of list(config.extraResources)) {
      const s = f as BuilderFileSet;
      fs.mkdirSync(path.dirname(path.join(res, s.to!)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, s.from!), path.join(res, s.to!));
      fs.chmodSync(path.join(res, s.to!), 0o755);
    }
  }, SLOW);

  afterAll(async () => {
    await running?.stop();
    if (res) fs.rmSync(path.dirname(path.dirname(res)), { recursive: true, force: true });
    if (data) fs.rmSync(data, { recursive: true, force: true });
  });

  it(
    'the shell starts the core child from it the way main.ts does: the pinned node, the unpacked entry, its API answering',
    async () => {
      const distDir = path.join(res, 'app.asar', path.dirname(config.extraMetadata!.main as string));
      expect(fs.existsSync(path.join(distDir, 'main.cjs'))).toBe(true);
      // The environment the packaged app reads (only the data dir and a free admin port differ from a desktop's).
      const cfg = shellConfigFrom(
        { CRASHCART_DATA_DIR: data, CRASHCART_ADMIN_LISTEN: '127.0.0.1:0', CRASHCART_SERVE_ARGS: '--lab sim:2 --http-port 0' },
        data,
        distDir,
      );
      expect(cfg.appRoot).toBe(path.join(res, 'app.asar.unpacked'));
      expect(cfg.nodePath).toBe(path.join(res, PACKAGED_NODE));
      const electron = await import('electron');
      const { runShell } = await import('../../electron/shell.ts');
      const shell = await runShell(electron, cfg);
      running = shell;
      const s = shell.state;
      const child = shell.child;
      expect(s.state, s.log.join('\n')).toBe('running');
      expect(shown.errors).toEqual([]);
      expect(shown.preloads).toEqual([path.join(distDir, 'preload.cjs')]);
      expect(shown.urls).toEqual([`${new URL(s.url!).origin}/#/nodes`]);
      // The process is the pinned runtime running the unpacked entry, not Electron and not a system node.
      expect(fs.readlinkSync(`/proc/${child.pid}/exe`)).toBe(path.join(res, PACKAGED_NODE));
      const argv = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      expect(argv.find((a, i) => i > 0 && !a.startsWith('--'))).toBe(path.join(res, 'app.asar.unpacked', 'bin', 'crashcart.mjs'));
      // It started itself again with serve's V8 flags (bin/v8-flags.mjs through the unpacked reexec addon).
      expect(argv).toContain('--no-allocation-site-pretenuring');
      // The addons (sendfile(2), the TFTP pump, the DHCP sockets) loaded from the unpacked tree (a plain Node cannot dlopen inside app.asar).
      const maps = fs.readFileSync(`/proc/${child.pid}/maps`, 'utf8');
      for (const addon of ['crashcart-sendfile-linux-x64.node', 'crashcart-tftp-pump-linux-x64.node', 'crashcart-udp-batch-linux-x64.node'])
        expect(maps).toContain(path.join(res, 'app.asar.unpacked', 'build', 'out', 'native', addon));
      const origin = new URL(s.url!).origin;
      const token = fs.readFileSync(path.join(data, 'admin-token'), 'utf8').trim();
      const ready = (await (await fetch(`${origin}/api/v1/readiness`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        rows: { id: string; detail: string }[];
      };
      expect(ready.rows.find((r) => r.id === 'microkernel-amd64')?.detail).toMatch(/shipped with this install, verified$/);
      expect(ready.rows.find((r) => r.id === 'loader-ipxe-bios')?.detail).toMatch(/shipped with this install/);
      expect(await (await fetch(`${origin}/`)).text()).toBe(
        fs.readFileSync(path.join(res, 'app.asar.unpacked', 'renderer', 'dist', 'index.html'), 'utf8'),
      );
    },
    SLOW,
  );
});
