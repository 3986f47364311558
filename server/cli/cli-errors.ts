/**
 * How a CLI command that failed says so: a catalog error as its code, message and fix; a file the command line
 * named that cannot be read or written as CC_ERR_CLI_FILE naming the path (and the flag, where the command
 * knows it); anything else, a bug of ours, as CC_ERR_INTERNAL with its message. The stack trace only with
 * CRASHCART_DEBUG=1: a user needs the fix, a bug report the stack. Every line goes through the control filter: an
 * error may quote the rack (CC_ERR_BMC_REFUSED carries the BMC's own error text), and the terminal must not act on it.
 */
import { CcError, ccError } from '../errors/cc-error.ts';
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

/** `text` line by line through the control filter: its line breaks kept (a usage text), every other control as `?`. */
const shownLines = (text: string): string => text.split('\n').map(cellText).join('\n');

/** What the CLI prints (without the final newline) for the error that ended a command. */
export function cliErrorText(e: unknown, debug = false): string {
  return shownLines(rawErrorText(e, debug));
}

function rawErrorText(e: unknown, debug: boolean): string {
  const stack = debug && e instanceof Error && e.stack ? `\n${e.stack}` : '';
  if (e instanceof CcError) return e.toCliText() + stack;
  const code = errnoOf(e);
  const file = (e as NodeJS.ErrnoException | null | undefined)?.path;
  if (code && file)
    return ccError('CC_ERR_CLI_FILE', `${file} (a path on the command line): ${FILE_ERRNOS[code]} (${code})`).toCliText() + stack;
  // A bug of ours: the catalog's fix points at the appliance's log, which a CLI run has not written.
  const what = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const internal = ccError('CC_ERR_INTERNAL', what);
  const fix = debug ? 'report it with the stack trace below.' : `run again with ${DEBUG_ENV}=1 for the stack trace and report it.`;
  return `${internal.code}: ${internal.message}\n  fix: this is a bug in crashcart: ${fix}${stack}`;
}
