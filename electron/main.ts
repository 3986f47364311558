/**
 * Electron entry: read the environment once, start the shell, stop the server child on quit.
 * Build with `node electron/build.mjs`; run with `npx electron electron/dist/main.cjs`.
 */
import * as electron from 'electron';
import path from 'node:path';
import { runShell, type RunningShell, type ShellConfig } from './shell.ts';

/** Default admin address: loopback only, the port the headless server prints too. */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:8027';

/** Build the shell config from the environment (the only place it is read). */
export function shellConfigFrom(env: NodeJS.ProcessEnv, userData: string, distDir: string): ShellConfig {
  return {
    appRoot: env.CRASHCART_ROOT ?? path.resolve(distDir, '..', '..'),
    distDir,
    dataDir: env.CRASHCART_DATA_DIR ?? path.join(userData, 'data'),
    // A system node, so `setcap` on it grants ports 67/69 without ever running Electron as root.
    nodePath: env.CRASHCART_NODE ?? 'node',
    adminListen: env.CRASHCART_ADMIN_LISTEN ?? DEFAULT_ADMIN_LISTEN,
    extraServeArgs: (env.CRASHCART_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
}

const { app } = electron;
let running: RunningShell | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => running?.window?.show());
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (!running) return;
    const r = running;
    running = null;
    event.preventDefault();
    void r.stop().finally(() => app.quit());
  });
  void app.whenReady().then(async () => {
    running = await runShell(electron, shellConfigFrom(process.env, app.getPath('userData'), __dirname));
  });
}
