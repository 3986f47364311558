/**
 * The desktop shell, kept thin: start the server core as a child process, open a locked-down
 * window on its admin UI, hand the admin token over through the preload, and show the
 * services' state in the tray. Electron's modules are passed in, so Node tests drive it
 * with a mocked `electron`.
 */
import type * as Electron from 'electron';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AdminConnection, ServerChildState } from '../contract/ipc.ts';
import { ServerChild } from './server-child.ts';
import { adminOrigin } from './server-output.ts';
import { isExternalSafe, isTrustedSender, lockDownContents } from './security.ts';
import { registerIpc } from './ipc-main.ts';
import type { ServiceStatus } from '../contract/system.ts';
import { trayState } from './tray-state.ts';
import { watchStatus } from './status-watch.ts';
import { pinAdminCertificate } from './admin-pin.ts';

/** The Electron modules the shell uses. */
export type ShellElectron = Pick<
  typeof Electron,
  'app' | 'BrowserWindow' | 'Tray' | 'Menu' | 'nativeImage' | 'ipcMain' | 'shell' | 'dialog' | 'session' | 'net'
>;

/** Where things are; read once from argv/env by the entry point. */
export interface ShellConfig {
  /** Repository or app.asar root (holds bin/crashcart.mjs). */
  appRoot: string;
  /** Folder of the built preload and assets. */
  distDir: string;
  dataDir: string;
  /** Node binary for the server (a private copy carries the capabilities, see privilegeFix). */
  nodePath: string;
  adminListen: string;
  /** Extra `serve` flags, e.g. `--lab sim:20`. */
  extraServeArgs: string[];
}

/** Quiet time after the child's last line before a problem is reported. */
export const REPORT_SETTLE_MS = 200;

/** The window's web preferences: the Electron security checklist, in one place. */
export function secureWebPreferences(preload: string): Electron.WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/** What runShell returns (for the entry point and tests). */
export interface RunningShell {
  child: ServerChild;
  window: Electron.BrowserWindow | null;
  state: ServerChildState;
  stop: () => Promise<void>;
}

/** Start everything. */
export async function runShell(e: ShellElectron, cfg: ShellConfig): Promise<RunningShell> {
  mkdirSync(cfg.dataDir, { recursive: true });
  const serveArgs = ['--data-dir', cfg.dataDir, '--admin-listen', cfg.adminListen, ...cfg.extraServeArgs];
  const child = new ServerChild({ nodePath: cfg.nodePath, entry: path.join(cfg.appRoot, 'bin', 'crashcart.mjs'), serveArgs });
  const trusted = new Set<number>();
  let origin = '';
  let token = '';
  let win: Electron.BrowserWindow | null = null;
  let services: ServiceStatus[] = [];
  let stopWatch: (() => void) | null = null;

  const icon = (level: string): Electron.NativeImage => e.nativeImage.createFromPath(path.join(cfg.distDir, 'assets', `tray-${level}.png`));
  const tray = new e.Tray(icon('warn'));
  const updateTray = (): void => {
    const t = trayState(services, child.snapshot().state);
    tray.setImage(icon(t.level));
    tray.setToolTip(t.tooltip);
    tray.setContextMenu(
      e.Menu.buildFromTemplate([
        { label: 'Open Crashcart', click: () => win?.show() },
        { type: 'separator' },
        ...t.lines.map((l) => ({ label: l, enabled: false })),
        { type: 'separator' },
        { label: 'Quit', click: () => e.app.quit() },
      ]),
    );
  };
  child.onChange(updateTray);
  updateTray();

  // Tell the operator once per problem: the exact fix in a dialog and on stderr (to copy).
  let reported: string | null = null;
  const report = (s: ServerChildState): void => {
    const key = s.errorCode ?? (s.state === 'failed' ? 'exit' : null);
    if (key === null || key === reported) return;
    reported = key;
    const text = [
      s.errorCode ?? 'The server stopped',
      s.fix ? `\nFix:\n${s.fix}` : '',
      s.log.length ? `\nLast output:\n${s.log.slice(-8).join('\n')}` : '',
    ].join('\n');
    process.stderr.write(`crashcart: ${text}\n`);
    e.dialog.showErrorBox('Crashcart needs attention', text);
  };
  // The fix line follows the error line: wait for the output to settle before reporting.
  let reportTimer: ReturnType<typeof setTimeout> | null = null;
  const offReport = child.onChange(() => {
    if (reportTimer !== null) clearTimeout(reportTimer);
    reportTimer = setTimeout(() => report(child.snapshot()), REPORT_SETTLE_MS);
  });

  // Read fresh each time: "sign out everywhere" rotates the token file under us.
  const readToken = (): string => {
    try {
      token = readFileSync(path.join(cfg.dataDir, 'admin-token'), 'utf8').trim();
    } catch {
      // keep the last one; the server's 401 will say what to do
    }
    return token;
  };
  const connect = (s: ServerChildState): void => {
    if (!s.url) return;
    origin = adminOrigin(s.url);
    readToken();
    let fetchImpl: typeof fetch = fetch;
    const pin = child.fingerprint;
    if (origin.startsWith('https:') && pin) {
      // Exposed admin plane: trust exactly the printed certificate, in the window and in net.fetch alike.
      pinAdminCertificate(e.session.defaultSession, origin, pin);
      fetchImpl = ((u: string, init?: RequestInit) => e.net.fetch(u, init)) as typeof fetch;
    }
    stopWatch?.();
    stopWatch = watchStatus(
      origin,
      readToken,
      (list) => {
        services = list;
        updateTray();
      },
      fetchImpl,
    );
  };

  registerIpc(
    e.ipcMain,
    {
      'crashcart:get-connection': (): AdminConnection => ({ baseUrl: origin, token: readToken() }),
      'crashcart:get-server-state': () => child.snapshot(),
      'crashcart:open-external': async (url: string) => {
        if (!isExternalSafe(url)) return false;
        await e.shell.openExternal(url);
        return true;
      },
      'crashcart:restart-server': async () => {
        await child.stop();
        reported = null;
        const s = await child.start();
        connect(s);
        if (s.url) void win?.loadURL(`${origin}/#/nodes`);
        return s;
      },
    },
    (ev) => isTrustedSender(ev, origin, trusted),
  );

  // Defence in depth: every web contents, not just our window, gets the same rules.
  e.app.on('web-contents-created', (_ev, contents) => lockDownContents(contents, origin || 'null://', e.shell));

  const state = await child.start();
  connect(state);
  if (state.url) {
    win = new e.BrowserWindow({
      width: 1440,
      height: 900,
      minWidth: 960,
      minHeight: 600,
      title: 'Crashcart',
      icon: path.join(cfg.distDir, 'assets', 'icon.png'),
      show: false,
      webPreferences: secureWebPreferences(path.join(cfg.distDir, 'preload.cjs')),
    });
    trusted.add(win.webContents.id);
    lockDownContents(win.webContents, origin, e.shell);
    win.once('ready-to-show', () => win?.show());
    // The token travels through the preload; the URL carries no secret.
    await win.loadURL(`${origin}/#/nodes`);
  }

  const stop = async (): Promise<void> => {
    stopWatch?.();
    offReport();
    if (reportTimer !== null) clearTimeout(reportTimer);
    tray.destroy();
    await child.stop();
  };
  return { child, window: win, state, stop };
}
