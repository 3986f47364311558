/** The shell's configuration, read from the environment once (only main reads env). */
import path from 'node:path';
import type { ShellConfig } from './shell.ts';

/** Default admin address: loopback only, the port the headless server prints too. */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:8027';

/** The pinned Node runtime inside a packaged app's resources folder (electron-builder.yml extraResources). */
export const PACKAGED_NODE = path.join('node', 'bin', 'node');

/** The resources folder of a packaged app (the one holding app.asar) when `distDir` is inside it, else null. */
export function packagedResources(distDir: string): string | null {
  const parts = path.resolve(distDir).split(path.sep);
  const i = parts.lastIndexOf('app.asar');
  return i > 0 ? parts.slice(0, i).join(path.sep) || path.sep : null;
}

/** Build the shell config from the environment (the only place it is read). */
export function shellConfigFrom(env: NodeJS.ProcessEnv, userData: string, distDir: string): ShellConfig {
  const resources = packagedResources(distDir);
  return {
    // distDir is build/out/electron in a checkout and in the packaged app alike.
    // Packaged, the server files are unpacked next to the asar: the system node cannot read inside it.
    appRoot: env.CRASHCART_ROOT ?? path.resolve(distDir, '..', '..', '..').replace(/app\.asar$/, 'app.asar.unpacked'),
    distDir,
    dataDir: env.CRASHCART_DATA_DIR ?? path.join(userData, 'data'),
    // A plain node, never Electron: CRASHCART_NODE (a private copy carrying the capabilities), else the packaged
    // app's own pinned runtime (electron-builder.yml extraResources), else the checkout's `node`.
    nodePath: env.CRASHCART_NODE ?? (resources ? path.join(resources, PACKAGED_NODE) : 'node'),
    adminListen: env.CRASHCART_ADMIN_LISTEN ?? DEFAULT_ADMIN_LISTEN,
    extraServeArgs: (env.CRASHCART_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
}
