/**
 * The CLI's client for a running appliance's admin API: the URL and the
 * certificate fingerprint come from the data dir's lock file, the token from
 * the token file. Over HTTPS the TLS session is opened first and its
 * certificate compared with the pinned SHA-256 fingerprint before a single
 * byte of the request (or the token) is sent; no CA is consulted.
 */
import http from 'node:http';
import tls from 'node:tls';
import net from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ccError, CcError } from '../errors/cc-error.ts';

/** A request body: JSON, or a stream of `length` bytes sent as application/octet-stream. */
export type Body = { json: unknown } | { stream: Readable; length: number; onBytes?: (n: number) => void };

/** A connection to one appliance. */
export interface AdminClient {
  readonly baseUrl: string;
  /** One call; resolves with the parsed JSON answer, throws the appliance's CcError on 4xx/5xx. */
  call<T>(method: string, path: string, body?: Body): Promise<T>;
  /** A GET whose answer is not JSON (an SSE stream, a download): the open response, after a 2xx status. */
  open(path: string, headers?: Record<string, string>): Promise<http.IncomingMessage>;
}

/** Open a TLS connection and check its certificate against the pin before handing it over. */
export function pinnedSocket(host: string, port: number, fingerprint: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    // rejectUnauthorized is off because the pin below is the whole trust decision (a self-signed certificate has no CA).
    const s = tls.connect({ host, port, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) });
    s.once('error', (e) => reject(ccError('CC_ERR_TLS', `${host}:${port}: ${e.message}`)));
    s.once('secureConnect', () => {
      const got = s.getPeerX509Certificate()?.fingerprint256;
      if (got !== fingerprint) {
        s.destroy();
        reject(ccError('CC_ERR_TLS_PIN', `${host}:${port} sent ${got ?? 'no certificate'}, pinned ${fingerprint}`));
      } else resolve(s);
    });
  });
}

/**
 * The appliance's error answer as a CcError: its code, message and fix as sent, so a newer appliance's code this
 * CLI's catalog lacks still prints what it said and how to fix it.
 */
export function errorFrom(status: number, text: string): CcError {
  try {
    const b = JSON.parse(text) as { code?: unknown; message?: unknown; fix?: unknown };
    if (typeof b.code === 'string' && b.code.startsWith('CC_ERR_'))
      return CcError.fromAnswer({
        statusCode: status,
        code: b.code,
        ...(typeof b.message === 'string' ? { message: b.message } : {}),
        ...(typeof b.fix === 'string' ? { fix: b.fix } : {}),
      });
  } catch {
    /* not our error shape */
  }
  return ccError('CC_ERR_INTERNAL', `HTTP ${status}: ${text.slice(0, 200)}`);
}

/** A client for `baseUrl` with the bearer `token`, pinned to `fingerprint` when it is https. */
export function adminClient(baseUrl: string, token: string, fingerprint: string | null): AdminClient {
  const u = new URL(baseUrl);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const https = u.protocol === 'https:';
  if (https && !fingerprint) throw ccError('CC_ERR_TLS', `${baseUrl} uses HTTPS but no certificate fingerprint is known`);
  const port = Number(u.port || (https ? 443 : 80));
  return {
    baseUrl,
    async call<T>(method: string, path: string, body?: Body): Promise<T> {
      const socket = https ? await pinnedSocket(host, port, fingerprint!) : undefined;
      const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body && 'json' in body) headers['content-type'] = 'application/json';
      if (body && 'stream' in body) Object.assign(headers, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      const req = http.request({ host, port, method, path, headers, ...(socket ? { createConnection: () => socket } : {}) });
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.once('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.once('error', reject);
        });
        req.once('error', (e) => reject(ccError('CC_ERR_NOT_RUNNING', `${baseUrl}: ${e.message}`)));
      });
      if (body && 'stream' in body) {
        let n = 0;
        const count = new Transform({
          transform(chunk: Buffer, _e, cb) {
            n += chunk.length;
            body.onBytes?.(n);
            cb(null, chunk);
          },
        });
        try {
          await pipeline(body.stream, count, req);
        } catch (e) {
          // The appliance may have answered (and closed) early, e.g. a refusal: prefer its answer.
          const early = await Promise.race([answer, new Promise<null>((r) => setTimeout(() => r(null), 2000).unref())]);
          if (!early) throw e;
        }
      } else req.end(body ? JSON.stringify(body.json) : undefined);
      const { status, text } = await answer;
      if (status >= 400) throw errorFrom(status, text);
      return (text ? JSON.parse(text) : null) as T;
    },
    async open(path: string, extra: Record<string, string> = {}): Promise<http.IncomingMessage> {
      const socket = https ? await pinnedSocket(host, port, fingerprint!) : undefined;
      const headers = { authorization: `Bearer ${token}`, accept: '*/*', ...extra };
      const req = http.request({ host, port, method: 'GET', path, headers, ...(socket ? { createConnection: () => socket } : {}) });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.once('error', (e) => reject(ccError('CC_ERR_NOT_RUNNING', `${baseUrl}: ${e.message}`)));
        req.end();
      });
      if ((res.statusCode ?? 0) < 400) return res;
      let text = '';
      res.setEncoding('utf8');
      for await (const d of res) text += d as string;
      throw errorFrom(res.statusCode ?? 0, text);
    },
  };
}
