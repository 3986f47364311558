/** One error shape for both planes: `{statusCode, code, error, message, fix}`. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { Ajv } from 'ajv';
import type { Logger } from '../core/plugin.ts';
import { CcError, diskWriteError } from '../errors/cc-error.ts';
import { ERRORS, type ErrorCode } from '../errors/catalog.ts';
import type { ErrorBody } from '../../contract/index.ts';
import { loggableUrl } from './loggable-url.ts';

function body(status: number, code: string, message: string, fix: string): ErrorBody {
  return { statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message, fix };
}

const catalogBody = (status: number, code: ErrorCode, message: string): ErrorBody => body(status, code, message, ERRORS[code].fix);

/**
 * Map any thrown error to the error body (and status). A write the disk refused (full, quota, I/O error,
 * read-only) is the operator's to fix, not a bug: CC_ERR_DISK_WRITE naming `dataDir`, not CC_ERR_INTERNAL.
 */
export function toErrorBody(err: unknown, dataDir?: string): ErrorBody {
  if (err instanceof CcError) return body(err.statusCode, err.code, err.message, err.fix);
  const e = err as FastifyError & { validation?: unknown[] };
  if (e?.validation) return catalogBody(400, 'CC_ERR_BAD_REQUEST', `${ERRORS.CC_ERR_BAD_REQUEST.message}: ${e.message}`);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413)
    return catalogBody(413, 'CC_ERR_TOO_LARGE', ERRORS.CC_ERR_TOO_LARGE.message);
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e?.statusCode === 415)
    return catalogBody(415, 'CC_ERR_UNSUPPORTED_MEDIA', `${ERRORS.CC_ERR_UNSUPPORTED_MEDIA.message}: ${e.message}`);
  if (e?.statusCode === 429) return catalogBody(429, 'CC_ERR_RATE_LIMITED', e.message || ERRORS.CC_ERR_RATE_LIMITED.message);
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return catalogBody(e.statusCode, 'CC_ERR_BAD_REQUEST', e.message);
  const disk = diskWriteError(err, dataDir);
  if (disk instanceof CcError) return toErrorBody(disk);
  return catalogBody(500, 'CC_ERR_INTERNAL', ERRORS.CC_ERR_INTERNAL.message);
}

/**
 * Install the error and not-found handlers on a Fastify instance; `dataDir` is named by a failed disk write's
 * message. A 5xx is logged with its URL redacted (loggable-url.ts): node-plane URLs carry install tokens.
 */
export function installErrorHandling(app: FastifyInstance, log: Logger, dataDir?: string): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const b = toErrorBody(err, dataDir);
    // The message names the route's pattern, never the URL: the node plane logs through an interval logger (one line
    // per message per interval), so a flood on one route is one line, and a failure on another route still shows.
    const route = req.routeOptions?.url;
    if (b.statusCode >= 500)
      log.error(
        { err: (err as Error)?.stack ?? String(err), url: loggableUrl(req.url) },
        route ? `request failed: ${req.method} ${route}` : 'request failed',
      );
    void reply.status(b.statusCode).send(b);
  });
  // Echo nothing of the request: a 404 page must not reflect attacker text or say more than "no such route".
  app.setNotFoundHandler((_req, reply) => {
    void reply
      .status(404)
      .send({ ...catalogBody(404, 'CC_ERR_NOT_FOUND', `${ERRORS.CC_ERR_NOT_FOUND.message}: no route for this method and path`) });
  });
}

/**
 * Validation for both planes: unknown fields are an error (never silently
 * dropped); bodies are validated exactly as sent (no coercion: a fact "65536"
 * must stay a string), while path and query strings are coerced to the
 * schema's numbers and booleans.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv({ removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}
