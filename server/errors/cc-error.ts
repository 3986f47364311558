/** The one error type and factory: a stable code, a message and the fix. */
import { ERRORS, type ErrorCode } from './catalog.ts';

/** A code another Crashcart sent that this build's catalog may not have (a newer appliance's). */
export type ForeignCode = string & { readonly foreign?: true };

/** What an appliance answers for an error (contract/protocol.ts `ErrorBody`), as far as a client can rely on it. */
export interface ErrorAnswer {
  statusCode: number;
  code: string;
  message?: string;
  fix?: string;
}

/** The fix of a code this catalog lacks, when the appliance that sent it gave none. */
const FOREIGN_FIX = "This appliance is newer than this command: see the appliance's docs/errors.md for the code, or update Crashcart here.";

/** An error that carries a catalog code, an HTTP status and the fix. */
export class CcError extends Error {
  /** A catalog code; only an error an appliance answered with (`fromAnswer`) may carry a code this catalog lacks. */
  readonly code: ErrorCode | ForeignCode;
  readonly statusCode: number;
  readonly fix: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, details: Record<string, unknown> = {}) {
    const entry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.name = 'CcError';
    this.code = code;
    this.statusCode = entry.status;
    this.fix = entry.fix;
    this.details = details;
  }

  /**
   * The error an appliance answered with, as it sent it: its code (even one this catalog lacks, from a newer
   * appliance), its message and its fix (which may name what this build does not know); the local catalog fills
   * only what the answer left out.
   */
  static fromAnswer(a: ErrorAnswer): CcError {
    const known = Object.hasOwn(ERRORS, a.code) ? ERRORS[a.code as ErrorCode] : undefined;
    const e = new CcError('CC_ERR_INTERNAL');
    Object.assign(e, {
      code: a.code,
      statusCode: a.statusCode,
      message: a.message || known?.message || `HTTP ${a.statusCode}`,
      fix: a.fix || known?.fix || FOREIGN_FIX,
    });
    // The stack's first line was written with the placeholder's message.
    e.stack = e.stack?.replace(/^.*/, `CcError: ${e.message}`);
    return e;
  }

  /** Text for a terminal: code, message and fix on its own line. */
  toCliText(): string {
    return `${this.code}: ${this.message}\n  fix: ${this.fix}`;
  }
}

/** Factory: `ccError('CC_ERR_NOT_FOUND', 'node 7')`. */
export function ccError(code: ErrorCode, detail?: string, details?: Record<string, unknown>): CcError {
  return new CcError(code, detail, details);
}

/** errno codes of a write the disk or its file system refused: not a bug of ours, the operator's to fix. */
const DISK_WRITE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/** What each of them means, for the message (the catalog's fix then says what to do per reason). */
const DISK_WRITE_REASON: Record<string, string> = {
  ENOSPC: 'no space left on the file system',
  EDQUOT: 'the disk quota is used up',
  EIO: 'the disk reported an I/O error',
  EROFS: 'the file system is read-only',
};

/**
 * Map a failed write under the data directory (ENOSPC, EDQUOT, EIO, EROFS: a store append, its fdatasync, an
 * upload) to CC_ERR_DISK_WRITE naming `dataDir` (when known); anything else is returned as it is.
 */
export function diskWriteError(err: unknown, dataDir?: string): CcError | unknown {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== 'string' || !DISK_WRITE_ERRNOS.has(e.code)) return err;
  const what = [e.syscall, e.path].filter(Boolean).join(' ');
  const dir = dataDir ? `data directory ${dataDir}` : 'the data directory `crashcart serve` printed as `data:`';
  return ccError('CC_ERR_DISK_WRITE', `${e.code}, ${DISK_WRITE_REASON[e.code]}${what ? ` (${what})` : ''}; ${dir}`);
}

/** Map a socket bind error (EACCES/EADDRINUSE) to a catalog error naming the port. */
export function bindError(err: unknown, what: string, port: number): CcError | unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return ccError('CC_ERR_PORT_DENIED', `${what} on port ${port}`);
  if (code === 'EADDRINUSE') return ccError('CC_ERR_PORT_IN_USE', `${what} on port ${port}`);
  return err;
}
