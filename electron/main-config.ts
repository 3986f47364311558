/** The shell's configuration, read from the environment once (only main reads env). */
import path from 'node:path';
import type { ShellConfig } from './shell.ts';

/** Default admin address: loopback only, the port the headless server prints too. */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:8027';

/** Build the shell config from the environment (the only place it is read). */
export function shellConfigFrom(env: NodeJS.ProcessEnv, userData: string, distDir: string): ShellConfig {
  return {
    // distDir is build/out/electron in a checkout and in the packaged app alike.
    // Packaged, the server files are unpacked next to the asar: the system node cannot read inside it.
    appRoot: env.CRASHCART_ROOT ?? path.resolve(distDir, '..', '..', '..').replace(/app\.asar$/, 'app.asar.unpacked'),
    distDir,
    dataDir: env.CRASHCART_DATA_DIR ?? path.join(userData, 'data'),
    // A plain node (CRASHCART_NODE: a private copy carrying the capabilities), so ports 67/69 never need Electron as root.
    nodePath: env.CRASHCART_NODE ?? 'node',
    adminListen: env.CRASHCART_ADMIN_LISTEN ?? DEFAULT_ADMIN_LISTEN,
    extraServeArgs: (env.CRASHCART_SERVE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
}
