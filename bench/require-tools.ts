/**
 * A benchmark's reference servers and load generators are Debian programs (nginx, dnsmasq, Kea, tftpd-hpa,
 * perfdhcp, atftp; QEMU for bench/loaders). The test command installs those the tests need; nginx is only the benchmarks'. Each
 * benchmark checks its programs before it builds a lab, so a fresh machine gets one line with the fix
 * instead of a child process's ENOENT half-way through a run.
 */
import { findTool } from '../server/images/tool-run.ts';

/** Program -> the Debian package that ships it (the benchmarks' programs; server/images/tool-run.ts has the image tools'). */
export const TOOL_PACKAGES: Record<string, string> = {
  nginx: 'nginx',
  dnsmasq: 'dnsmasq-base',
  'kea-dhcp4': 'kea-dhcp4-server',
  perfdhcp: 'kea-admin',
  'in.tftpd': 'tftpd-hpa',
  atftp: 'atftp',
  curl: 'curl',
  taskset: 'util-linux',
  cc: 'gcc',
  'qemu-system-x86_64': 'qemu-system-x86',
};

/** The Debian packages that ship `tools`, each once (a program not in the table is taken for its package's name). */
export function packagesFor(tools: string[]): string[] {
  return [...new Set(tools.map((t) => TOOL_PACKAGES[t] ?? t))];
}

/** The error text for missing programs (empty when none is missing): names them and says how to install them. */
export function missingToolsMessage(bench: string, tools: string[], env: NodeJS.ProcessEnv = process.env): string {
  // The appliance's own lookup (PATH plus the sbin folders, where Debian puts servers).
  const missing = tools.filter((t) => findTool(t, env) === null);
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
