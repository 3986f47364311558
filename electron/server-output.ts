/**
 * Reading the server child's output: the admin URL it prints, and the error code and fix it
 * prints when it cannot bind DHCP (67) or TFTP (69). Pure: lines in, facts out.
 *
 * Each stream is read for what `crashcart serve` (server/cli/main.ts) writes there, and only at
 * the start of a line: the URL and the certificate fingerprint from stdout, the error code and
 * its fix from stderr. stderr is also the log, where rack text lands (a hook script's output, a
 * BMC's message; always after a timestamp, and as JSON), and neither it nor a later stdout line
 * may choose the origin the shell opens and hands the admin token to, or raise a dialog.
 */

/** What the shell learned from the child's output so far. */
export interface ServerOutputFacts {
  url: string | null;
  errorCode: string | null;
  /** The fix line the server printed (its catalog's text). */
  serverFix: string | null;
  /** SHA-256 fingerprint of the admin plane's certificate (HTTPS only), to pin. */
  fingerprint: string | null;
}

/** The child's output streams. */
export type ServerStream = 'stdout' | 'stderr';

// stdout, once serve listens: `Crashcart UI: <login URL>` and `  admin TLS:  ... SHA-256 fingerprint <AA:BB:...>`.
const URL_LINE = /^Crashcart UI: (https?:\/\/\S+)\s*$/;
const FINGERPRINT = /^\s+admin TLS:\s.*\bfingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\s*$/;
// stderr, when serve cannot run: `CC_ERR_...: <message>` (a NIC service that failed, or the error that ended
// serve), then `  fix: <the catalog's fix>`.
const CODE_LINE = /^(CC_ERR_[A-Z0-9_]+): /;
const CODE = /\b(CC_ERR_[A-Z0-9_]+)\b/;
const FIX_LINE = /^\s*fix:\s*(.+)$/;
// A service that failed while the rest kept running: `dhcp failed: <catalog message>: <detail>`.
const SERVICE_FAILED = /^(\S+) failed: (.+)$/;
// The catalog's CC_ERR_PORT_DENIED message, and what the kernel says when the capability is missing.
const DENIED = /privileged port was refused|EACCES|permission denied/i;

/** Fold one line the child wrote on `stream` into the facts. */
export function readServerLine(facts: ServerOutputFacts, line: string, stream: ServerStream): ServerOutputFacts {
  if (stream === 'stdout') {
    // The first of each wins: serve prints them once, before anything the rack could add.
    const url = URL_LINE.exec(line);
    if (url?.[1]) return facts.url === null ? { ...facts, url: url[1] } : facts;
    const pin = FINGERPRINT.exec(line);
    if (pin?.[1]) return facts.fingerprint === null ? { ...facts, fingerprint: pin[1] } : facts;
    return facts;
  }
  if (facts.errorCode === null) {
    const failed = SERVICE_FAILED.exec(line);
    if (failed?.[2]) {
      const code = CODE.exec(failed[2])?.[1] ?? (DENIED.test(failed[2]) ? 'CC_ERR_PORT_DENIED' : 'CC_ERR_SERVICE_FAILED');
      return { ...facts, errorCode: code };
    }
    const code = CODE_LINE.exec(line);
    return code?.[1] ? { ...facts, errorCode: code[1] } : facts;
  }
  // The fix follows its error (a fix line of the readiness table, on stdout, is not one).
  const fix = FIX_LINE.exec(line);
  if (fix?.[1] && facts.serverFix === null) return { ...facts, serverFix: fix[1] };
  return facts;
}

/** The origin of the admin UI URL, without the one-time login fragment. */
export function adminOrigin(url: string): string {
  return new URL(url).origin;
}

/**
 * Where a private copy of node that carries the capabilities lives. `setcap` on the system
 * node would give raw sockets and ports below 1024 to every Node program on the machine;
 * this copy is executable by the operator's group only (docs/privileges.md).
 */
export const DEDICATED_NODE = '/usr/local/lib/crashcart/node';

/**
 * The exact commands that let the child bind ports 67/69 without running Electron as root:
 * grant the capabilities to a private copy of node (once), or run the server via pkexec.
 */
export function privilegeFix(nodePath: string, serveArgs: readonly string[]): string {
  const quoted = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const grant = `sudo setcap cap_net_bind_service,cap_net_raw+ep ${DEDICATED_NODE}`;
  const src = nodePath.includes('/') ? quoted(nodePath) : `"$(command -v ${quoted(nodePath)})"`;
  return [
    ...(nodePath === DEDICATED_NODE
      ? [grant]
      : [
          `# a private copy of node gets the capabilities, never the system node (every Node program would get them):`,
          `sudo install -D -o root -g "$(id -gn)" -m 0750 "$(readlink -f ${src})" ${DEDICATED_NODE}`,
          grant,
          `# then start Crashcart with CRASHCART_NODE=${DEDICATED_NODE}`,
        ]),
    `# or, without a capable binary, run the server once as root through polkit:`,
    `pkexec ${[nodePath, ...serveArgs].map(quoted).join(' ')}`,
  ].join('\n');
}

/** Error codes that mean "needs the network capabilities". */
export const PRIVILEGE_ERRORS: ReadonlySet<string> = new Set(['CC_ERR_PORT_DENIED']);
