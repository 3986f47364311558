/**
 * A benchmark's reference servers and load generators are Debian programs (nginx, dnsmasq, Kea, tftpd-hpa,
 * perfdhcp, atftp). The test command installs those the tests need; nginx is only the benchmarks'. Each
 * benchmark checks its programs before it builds a lab, so a fresh machine gets one line with the fix
 * instead of a child process's ENOENT half-way through a run.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Program -> the Debian package that ships it. */
export const TOOL_PACKAGES: Record<string, string> = {
  nginx: 'nginx',
  dnsmasq: 'dnsmasq-base',
  'kea-dhcp4': 'kea-dhcp4-server',
  perfdhcp: 'kea-admin',
  'in.tftpd': 'tftpd-hpa',
  atftp: 'atftp',
  curl: 'curl',
  taskset: 'util-linux',
};

/** Where `name` is on PATH or in the sbin directories root's PATH has (Debian puts servers there), or null. */
export function findTool(name: string, envPath = process.env.PATH ?? ''): string | null {
  const dirs = [...envPath.split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter((d) => d !== '');
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** The Debian packages that ship `tools`, each once (a program not in the table is taken for its package's name). */
export function packagesFor(tools: string[]): string[] {
  return [...new Set(tools.map((t) => TOOL_PACKAGES[t] ?? t))];
}

/** The error text for missing programs (empty when none is missing): names them and says how to install them. */
export function missingToolsMessage(bench: string, tools: string[], envPath?: string): string {
  const missing = tools.filter((t) => findTool(t, envPath) === null);
  if (missing.length === 0) return '';
  const pkgs = packagesFor(missing);
  return (
    `bench/${bench}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed (reference servers and load ` +
    `generators run beside Crashcart).\n  fix: sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`
  );
}

/** Exit with the fix when a program the benchmark runs is missing. */
export function requireTools(bench: string, tools: string[]): void {
  const msg = missingToolsMessage(bench, tools);
  if (msg === '') return;
  process.stderr.write(msg + '\n');
  process.exit(2);
}
