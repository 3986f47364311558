/** The admin plane's error body, kept whole so screens can show the message and the fix. */
export class ApiError extends Error {
  /** HTTP status; 0 when the appliance could not be reached at all. */
  readonly status: number;
  /** Stable error code (CC_ERR_...), or CC_UI_UNREACHABLE for a network failure. */
  readonly code: string;
  /** What to do about it, as the server's catalog says. */
  readonly fix: string;

  constructor(status: number, code: string, message: string, fix: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fix = fix;
  }
}

/** Turn any response body into an ApiError without trusting its shape. */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  const o = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const str = (v: unknown, d: string): string => (typeof v === 'string' && v.length > 0 ? v : d);
  return new ApiError(
    status,
    str(o.code, `HTTP_${status}`),
    str(o.message, str(o.error, `Request failed with status ${status}`)),
    str(o.fix, ''),
  );
}

/** The error raised when the appliance does not answer at all. */
export function unreachableError(detail: string): ApiError {
  return new ApiError(
    0,
    'CC_UI_UNREACHABLE',
    `The appliance does not answer (${detail})`,
    'Check that `crashcart serve` is running and that this page was opened from the address it printed.',
  );
}
