/** The one error type and factory: a stable code, a message and the fix. */
import { ERRORS, type ErrorCode } from './catalog.ts';

/** An error that carries a catalog code, an HTTP status and the fix. */
export class CcError extends Error {
  readonly code: ErrorCode;
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

  /** Text for a terminal: code, message and fix on its own line. */
  toCliText(): string {
    return `${this.code}: ${this.message}\n  fix: ${this.fix}`;
  }
}

/** Factory: `ccError('CC_ERR_NOT_FOUND', 'node 7')`. */
export function ccError(code: ErrorCode, detail?: string, details?: Record<string, unknown>): CcError {
  return new CcError(code, detail, details);
}

/** Map a socket bind error (EACCES/EADDRINUSE) to a catalog error naming the port. */
export function bindError(err: unknown, what: string, port: number): CcError | unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return ccError('CC_ERR_PORT_DENIED', `${what} on port ${port}`);
  if (code === 'EADDRINUSE') return ccError('CC_ERR_PORT_IN_USE', `${what} on port ${port}`);
  return err;
}
