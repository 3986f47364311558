/** One error shape for both planes: `{statusCode, code, error, message, fix}`. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { CcError } from '../errors/cc-error.ts';
import { ERRORS, type ErrorCode } from '../errors/catalog.ts';
import type { ErrorBody } from '../../contract/index.ts';

function body(status: number, code: ErrorCode, message: string): ErrorBody {
  return { statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message, fix: ERRORS[code].fix };
}

/** Map any thrown error to the error body (and status). */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof CcError) return { ...body(err.statusCode, err.code, err.message), fix: err.fix };
  const e = err as FastifyError & { validation?: unknown[] };
  if (e?.validation) return body(400, 'CC_ERR_BAD_REQUEST', `${ERRORS.CC_ERR_BAD_REQUEST.message}: ${e.message}`);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) return body(413, 'CC_ERR_TOO_LARGE', ERRORS.CC_ERR_TOO_LARGE.message);
  if (e?.statusCode === 429) return body(429, 'CC_ERR_RATE_LIMITED', e.message || ERRORS.CC_ERR_RATE_LIMITED.message);
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return body(e.statusCode, 'CC_ERR_BAD_REQUEST', e.message);
  return body(500, 'CC_ERR_INTERNAL', ERRORS.CC_ERR_INTERNAL.message);
}

/** Install the error and not-found handlers on a Fastify instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const b = toErrorBody(err);
    if (b.statusCode >= 500) req.log.error({ err }, 'request failed');
    void reply.status(b.statusCode).send(b);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ ...body(404, 'CC_ERR_NOT_FOUND', `${ERRORS.CC_ERR_NOT_FOUND.message}: ${req.method} ${req.url.split('?')[0]}`) });
  });
}
