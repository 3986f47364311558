/**
 * The shell's main process with `electron` mocked: it starts the real server as a child,
 * opens one locked-down window on the admin UI, hands the token over IPC only, and shows the
 * services in the tray (from the real status endpoint and event stream).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IpcMainInvokeEvent } from 'electron';

const state = vi.hoisted(() => ({
  windows: [] as Array<{
    options: Record<string, unknown>;
    urls: string[];
    contents: { id: number; handlers: Map<string, unknown>; openHandler: unknown };
  }>,
  trays: [] as Array<{ images: string[]; tooltips: string[]; menus: unknown[]; destroyed: boolean }>,
  handlers: new Map<string, (e: unknown, a: unknown) => Promise<unknown>>(),
  errors: [] as string[],
  appEvents: new Map<string, unknown>(),
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: {
      id: number;
      handlers: Map<string, unknown>;
      openHandler: unknown;
      on: (e: string, h: unknown) => void;
      setWindowOpenHandler: (h: unknown) => void;
    };
    private rec: (typeof state.windows)[number];
    constructor(options: Record<string, unknown>) {
      const handlers = new Map<string, unknown>();
      this.webContents = {
        id: 100 + state.windows.length,
        handlers,
        openHandler: null,
        on: (e, h) => void handlers.set(e, h),
        setWindowOpenHandler: (h) => void (this.webContents.openHandler = h),
      };
      this.rec = { options, urls: [], contents: this.webContents };
      state.windows.push(this.rec);
    }
    once(): void {}
    show(): void {}
    async loadURL(u: string): Promise<void> {
      this.rec.urls.push(u);
    }
  }
  class Tray {
    rec = { images: [] as string[], tooltips: [] as string[], menus: [] as unknown[], destroyed: false };
    constructor(img: string) {
      this.rec.images.push(img);
      state.trays.push(this.rec);
    }
    setImage(i: string): void {
      this.rec.images.push(i);
    }
    setToolTip(t: string): void {
      this.rec.tooltips.push(t);
    }
    setContextMenu(m: unknown): void {
      this.rec.menus.push(m);
    }
    destroy(): void {
      this.rec.destroyed = true;
    }
  }
  return {
    app: { on: (e: string, h: unknown) => void state.appEvents.set(e, h), quit: vi.fn(), getPath: () => tmpdir() },
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: unknown) => t },
    nativeImage: { createFromPath: (p: string) => p },
    ipcMain: {
      handle: (c: string, h: (e: unknown, a: unknown) => Promise<unknown>) => void state.handlers.set(c, h),
      removeHandler: vi.fn(),
    },
    shell: { openExternal: vi.fn(async () => undefined) },
    dialog: { showErrorBox: (_t: string, body: string) => void state.errors.push(body) },
  };
});

import * as electron from 'electron';
import { runShell, type RunningShell } from '../../electron/shell.ts';
import { shellConfigFrom } from '../../electron/main-config.ts';
import { writeFakeServer } from './fake-server.ts';
import { DEDICATED_NODE } from '../../electron/server-output.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let running: RunningShell | null = null;
let dataDir = '';
afterEach(async () => {
  vi.unstubAllEnvs();
  await running?.stop();
  running = null;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('electron shell', () => {
  it('runs the real server as a child and opens one secure window without secrets in the URL', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cc-shell-'));
    const cfg = shellConfigFrom(
      {
        CRASHCART_DATA_DIR: dataDir,
        CRASHCART_NODE: process.execPath,
        CRASHCART_ADMIN_LISTEN: '127.0.0.1:0',
        CRASHCART_SERVE_ARGS: '--lab sim:2 --http-port 0 --log-level warn',
        CRASHCART_ROOT: repo,
      },
      '/unused',
      path.join(repo, 'electron'),
    );
    running = await runShell(electron, cfg);
    expect(running.state.state, running.state.log.join('\n')).toBe('running');

    expect(state.windows).toHaveLength(1);
    const win = state.windows[0]!;
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(prefs.preload).toBe(path.join(repo, 'electron', 'preload.cjs'));
    const origin = new URL(running.state.url!).origin;
    expect(win.urls).toEqual([`${origin}/#/nodes`]);
    expect(win.urls[0]).not.toContain('login=');
    expect(win.contents.handlers.has('will-navigate')).toBe(true);
    expect(win.contents.openHandler).toBeTypeOf('function');

    // The token travels over IPC, to our window only.
    const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const ours = {
      sender: { id: win.contents.id },
      senderFrame: { url: `${origin}/#/nodes`, parent: null },
    } as unknown as IpcMainInvokeEvent;
    const stranger = { sender: { id: 999 }, senderFrame: { url: `${origin}/`, parent: null } } as unknown as IpcMainInvokeEvent;
    const getConnection = state.handlers.get('crashcart:get-connection')!;
    await expect(getConnection(ours, undefined)).resolves.toEqual({ baseUrl: origin, token });
    await expect(getConnection(stranger, undefined)).rejects.toThrow(/untrusted/);
    const res = await fetch(`${origin}/api/v1/status`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);

    // The tray learns the services from the real status endpoint.
    const tray = state.trays[0]!;
    await vi.waitFor(() => expect(JSON.stringify(tray.menus.at(-1))).toContain('lab: running'), { timeout: 10_000 });
    expect(tray.tooltips.at(-1)).toBe('Crashcart: all services running');
    expect(tray.images.at(-1)).toContain('tray-ok.png');
    expect(state.errors).toEqual([]);

    const pid = running.child.pid!;
    await running.stop();
    running = null;
    expect(tray.destroyed).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('shows the exact capability/pkexec fix when DHCP cannot bind, and a red tray', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cc-shell-denied-'));
    writeFakeServer(dataDir);
    vi.stubEnv('FAKE_MODE', 'service-denied');
    state.errors.length = 0;
    const cfg = shellConfigFrom(
      { CRASHCART_DATA_DIR: path.join(dataDir, 'data'), CRASHCART_NODE: process.execPath, CRASHCART_ROOT: dataDir },
      '/unused',
      path.join(repo, 'electron'),
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      running = await runShell(electron, cfg);
      await vi.waitFor(() => expect(state.errors).toHaveLength(1), { timeout: 5000 });
      expect(state.errors[0]).toContain('CC_ERR_PORT_DENIED');
      expect(state.errors[0]).toContain(`sudo setcap cap_net_bind_service,cap_net_raw+ep ${DEDICATED_NODE}`);
      expect(state.errors[0]).toContain(`"$(readlink -f ${process.execPath})"`);
      expect(state.errors[0]).toContain(`pkexec ${process.execPath}`);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('sudo setcap');
      const tray = state.trays.at(-1)!;
      await vi.waitFor(() => expect(tray.tooltips.at(-1)).toBe('Crashcart: dhcp failed'), { timeout: 10_000 });
      expect(tray.images.at(-1)).toContain('tray-error.png');
    } finally {
      stderr.mockRestore();
    }
  });

  it('opens no window when the server exits, and says why', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cc-shell-fatal-'));
    writeFakeServer(dataDir);
    vi.stubEnv('FAKE_MODE', 'fatal-denied');
    state.errors.length = 0;
    const before = state.windows.length;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      running = await runShell(
        electron,
        shellConfigFrom(
          { CRASHCART_DATA_DIR: path.join(dataDir, 'data'), CRASHCART_NODE: process.execPath, CRASHCART_ROOT: dataDir },
          '/unused',
          path.join(repo, 'electron'),
        ),
      );
      expect(running.state.state).toBe('failed');
      expect(running.window).toBeNull();
      expect(state.windows.length).toBe(before);
      await vi.waitFor(() => expect(state.errors.join('\n')).toContain('sudo setcap'), { timeout: 5000 });
      expect(state.trays.at(-1)!.tooltips.at(-1)).toBe('Crashcart: server stopped');
    } finally {
      stderr.mockRestore();
    }
  });
});
