/**
 * Where the BMC test peers come from. sushy-tools (OpenStack's Redfish emulator) is a shared test tool
 * beside the repository (`../shared/tools`, or CRASHCART_SHARED_TOOLS); ipmi_sim, ipmitool, QEMU and
 * openssl are Debian packages (scripts/deps/bmc.txt). A missing peer fails the test with the fix: a BMC
 * test that quietly skips would pass without ever having talked to a BMC.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../../server/boot/microkernel-assets.ts';

/** The shared tools folder (read at each call, so a test can point it elsewhere). */
export const sharedToolsDir = (): string => process.env['CRASHCART_SHARED_TOOLS'] ?? path.resolve(REPO_ROOT, '..', 'shared', 'tools');

/** Debian's python3 (a pyenv or venv python3 in PATH would not see the Debian python3-* modules). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Path of a shared tool, or an error saying where to get it. */
export function sharedTool(name: 'sushy-tools' | 'ipmi-sim'): string {
  const dir = path.join(sharedToolsDir(), name);
  if (!fs.existsSync(path.join(dir, 'README.md'))) {
    const what =
      name === 'sushy-tools'
        ? "OpenStack's sushy-tools (the Redfish emulator Ironic tests against; the commit is named in shared/tools/sushy-tools/README.md), with a `run` script starting `python3 -m sushy_tools.emulator.main`"
        : 'the ipmi_sim notes (README.md, lan.conf.template, bmc.emu)';
    throw new Error(
      `BMC test peer missing: ${dir} does not exist. The tests need ${what}. It lives in the project's shared folder next to the ` +
        `repository (../shared/tools/${name}); copy that folder there, or set CRASHCART_SHARED_TOOLS=/path/to/shared/tools.`,
    );
  }
  return dir;
}

/** Absolute path of a program from PATH, or an error naming the Debian package that provides it. */
export function requireProgram(program: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    `BMC test peer missing: ${program} is not installed. Fix: sudo apt-get install -y ${debianPackage} (listed in scripts/deps/bmc.txt; \`sudo npm test\` installs it).`,
  );
}

/** Fail with the apt fix unless Debian's python3 has sushy-tools' modules. */
export function requirePythonModules(modules: string[], packages: string[]): void {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `BMC test peer missing: ${DEBIAN_PYTHON} cannot import ${modules.join(', ')} (${(r.stderr ?? r.error?.message ?? '').trim().split('\n').pop()}). Fix: sudo apt-get install -y ${packages.join(' ')}`,
    );
}
