/** The shell's configuration from the environment: defaults, overrides, and the packaged layout. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({}));
import { DEFAULT_ADMIN_LISTEN, shellConfigFrom } from '../../electron/main-config.ts';

describe('shell config', () => {
  it('defaults to loopback, the system node and the userData folder', () => {
    const c = shellConfigFrom({}, '/home/op/.config/Crashcart', '/opt/crashcart/build/out/electron');
    expect(c).toEqual({
      appRoot: '/opt/crashcart',
      distDir: '/opt/crashcart/build/out/electron',
      dataDir: '/home/op/.config/Crashcart/data',
      nodePath: 'node',
      adminListen: DEFAULT_ADMIN_LISTEN,
      extraServeArgs: [],
    });
    expect(DEFAULT_ADMIN_LISTEN.startsWith('127.0.0.1:')).toBe(true);
  });

  it('runs the server from the unpacked files of a packaged app, and takes overrides', () => {
    const packaged = shellConfigFrom({}, '/u', '/opt/Crashcart/resources/app.asar/build/out/electron');
    expect(packaged.appRoot).toBe('/opt/Crashcart/resources/app.asar.unpacked');
    // Packaged, the core child runs on the app's own pinned runtime, never Electron or the system node.
    expect(packaged.nodePath).toBe('/opt/Crashcart/resources/node/bin/node');
    const c = shellConfigFrom(
      { CRASHCART_NODE: '/usr/local/bin/node', CRASHCART_SERVE_ARGS: ' --iface enp3s0  --dhcp proxy ', CRASHCART_DATA_DIR: '/srv/cc' },
      '/u',
      '/x/build/out/electron',
    );
    expect([c.nodePath, c.dataDir, c.extraServeArgs]).toEqual(['/usr/local/bin/node', '/srv/cc', ['--iface', 'enp3s0', '--dhcp', 'proxy']]);
  });
});
