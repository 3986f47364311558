/**
 * How a CLI command that failed says so: a catalog error as its code, message and fix; a file the command line
 * named that cannot be read or written as CC_ERR_CLI_FILE naming the path (and the flag, where the command
 * knows it); anything else, a bug of ours, as CC_ERR_INTERNAL with its message. The stack trace only with
 * CRASHCART_DEBUG=1: a user needs the fix, a bug report the stack. The message and the fix are one line each, through
 * the control filter: an error may quote the rack (CC_ERR_BMC_REFUSED carries the BMC's own error text), and the
 * terminal must not act on it, nor show a line of it as a `fix:` line of ours. Only a usage text (CliUsageError,
 * this build's own words) adds lines, after the fix.
 */
import { CcError, ccError } from '../errors/cc-error.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import { shownControls } from '../core/terminal-text.ts';
import { cellText } from './route/output-format.ts';

/** errno codes that are about the file a path names (opening, reading or writing it), not about us. */
const FILE_ERRNOS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder, not a file',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the file system',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links',
};

/** The environment switch that adds the stack trace to what the CLI prints for an error. */
export const DEBUG_ENV = 'CRASHCART_DEBUG';

const errnoOf = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(FILE_ERRNOS, code) ? code : undefined;
};

/**
 * `err` from reading or writing `file`, which the command line gave after `flag` (`--password-file`):
 * CC_ERR_CLI_FILE naming both, or `err` itself when it is not about the file.
 */
export function fileError(err: unknown, flag: string, file: string): unknown {
  const code = errnoOf(err);
  return code ? ccError('CC_ERR_CLI_FILE', `${flag} ${file}: ${FILE_ERRNOS[code]} (${code})`) : err;
}

/** A command-line mistake the CLI found itself, with the usage text to print after the error and its fix. */
export class CliUsageError extends CcError {
  /** This build's own usage lines (never an appliance's), printed as they are. */
  readonly usage: string;

  constructor(code: ErrorCode, why: string | undefined, usage: string) {
    super(code, why);
    this.usage = usage;
  }
}

/**
 * An error as two lines, `CODE: message` and `  fix: fix`, each field through the control filter with its line
 * breaks shown as `\n` (terminal-text.ts): whatever the message quotes, the only `fix:` line is the fix.
 */
export function errorLines(code: string, message: string, fix: string): string {
  return `${cellText(code)}: ${cellText(message)}\n  fix: ${cellText(fix)}`;
}

/** What the CLI prints (without the final newline) for the error that ended a command. */
export function cliErrorText(e: unknown, debug = false): string {
  const stack = debug && e instanceof Error && e.stack ? `\n${shownStack(e, e.stack)}` : '';
  if (e instanceof CliUsageError) return `${errorLines(e.code, e.message, e.fix)}\n${shownControls(e.usage.trimEnd(), true)}${stack}`;
  if (e instanceof CcError) return errorLines(e.code, e.message, e.fix) + stack;
  const code = errnoOf(e);
  const file = (e as NodeJS.ErrnoException | null | undefined)?.path;
  if (code && file) {
    const f = ccError('CC_ERR_CLI_FILE', `${file} (a path on the command line): ${FILE_ERRNOS[code]} (${code})`);
    return errorLines(f.code, f.message, f.fix) + stack;
  }
  // A bug of ours: the catalog's fix points at the appliance's log, which a CLI run has not written.
  const internal = ccError('CC_ERR_INTERNAL', e instanceof Error ? e.message.split('\n')[0] : String(e));
  const fix = debug ? 'report it with the stack trace below.' : `run again with ${DEBUG_ENV}=1 for the stack trace and report it.`;
  return errorLines(internal.code, internal.message, `this is a bug in crashcart: ${fix}`) + stack;
}

/**
 * A stack trace for the terminal: `Name: message` as one line, then V8's frames (`    at ...`), each through the
 * control filter. V8 wrote the message into the stack as it was when the error was made, where a line of it (the
 * rack's) could pass for a frame or a fix: the stack's own copy is cut off first.
 */
function shownStack(e: Error, stack: string): string {
  const at = e.message ? stack.indexOf(e.message) : -1;
  const rest = at >= 0 && !stack.slice(0, at).includes('\n') ? stack.slice(at + e.message.length) : stack;
  const frames = rest.split('\n').filter((l) => /^\s+at /.test(l));
  return [`${e.name}: ${e.message}`, ...frames].map((l) => cellText(l)).join('\n');
}
