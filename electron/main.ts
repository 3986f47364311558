/**
 * Electron entry: read the environment once, start the shell, stop the server child on quit.
 * Build with `node electron/build.mjs`; run with `npx electron build/out/electron/main.cjs`.
 */
import * as electron from 'electron';
import { runShell, type RunningShell } from './shell.ts';
import { shellConfigFrom } from './main-config.ts';

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
