/**
 * HTTP/1.1 JSON exchanges with a Redfish service over a connection opened by
 * `connectTls` (one connection per exchange: BMC actions are few, and a fresh
 * handshake re-checks the pinned certificate every time). Every exchange has
 * one deadline covering connect, handshake and answer. GETs are retried after
 * a dropped or timed-out attempt (idempotent, RFC 9110 9.2.2); other methods
 * are retried only when the connection failed before the request was sent.
 */
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { ccError, CcError } from '../../errors/cc-error.ts';
import { connectTls, socketError, type TlsTarget } from './tls-connect.ts';
import type { Sleep } from '../driver.ts';

/** Redfish answers we read are small; a BMC streaming more is broken or hostile. */
const MAX_BODY = 4 * 1024 * 1024;
/** Pause before retry n (n = 1, 2...): 0.5 s, 1 s, 2 s... */
const backoffMs = (n: number) => 500 * 2 ** (n - 1);

/** One answer. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or null when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Client settings. */
export interface HttpClientOptions {
  tls: TlsTarget;
  timeoutMs: number;
  retries: number;
  sleep: Sleep;
}

/** Thrown inside an attempt when the failure came before the request was written (safe to retry any method). */
class NotSent extends Error {
  constructor(override readonly cause: CcError) {
    super(cause.message);
  }
}

/** A Redfish HTTP client for one BMC. */
export class RedfishHttp {
  private readonly where: string;

  constructor(private readonly o: HttpClientOptions) {
    this.where = `Redfish BMC ${o.tls.host}:${o.tls.port}`;
    // After trust on first use, later exchanges of this client hold the BMC to the certificate it just pinned.
    const onPinned = o.tls.onPinned;
    o.tls.onPinned = (fp) => {
      o.tls.fingerprint = fp;
      onPinned?.(fp);
    };
  }

  /** Send a request, retrying as described above; the answer may have any status (callers map it). */
  async request(req: HttpRequest): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(req);
      } catch (e) {
        const notSent = e instanceof NotSent;
        const err = notSent ? e.cause : socketError(e, this.where);
        const transient = err.code === 'CC_ERR_BMC_UNREACHABLE' || err.code === 'CC_ERR_BMC_TIMEOUT';
        if (!transient || attempt >= this.o.retries || (req.method !== 'GET' && !notSent)) throw err;
        await this.o.sleep(backoffMs(attempt + 1));
      }
    }
  }

  private async once(req: HttpRequest): Promise<HttpAnswer> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.o.timeoutMs);
    try {
      let sock;
      try {
        sock = await connectTls(this.o.tls, ac.signal);
      } catch (e) {
        throw new NotSent(socketError(e, this.where));
      }
      return await this.exchange(req, sock, ac.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private exchange(req: HttpRequest, sock: TLSSocket, signal: AbortSignal): Promise<HttpAnswer> {
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    return new Promise((resolve, reject) => {
      const r = https.request({
        host: this.o.tls.host,
        port: this.o.tls.port,
        method: req.method,
        path: req.path,
        // No agent + createConnection: Node uses our already-verified socket and sends `Connection: close`.
        createConnection: () => sock,
        headers: {
          accept: 'application/json',
          'odata-version': '4.0', // DSP0266 8.1: clients send OData-Version 4.0
          ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          ...req.headers,
        },
      });
      const onAbort = () => {
        r.destroy();
        sock.destroy();
        reject(ccError('CC_ERR_BMC_TIMEOUT', `${this.where}: no answer to ${req.method} ${req.path} in ${this.o.timeoutMs} ms`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      r.on('error', (e) => {
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        reject(socketError(e, this.where));
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            signal.removeEventListener('abort', onAbort);
            res.destroy();
            sock.destroy();
            reject(ccError('CC_ERR_BMC_PROTOCOL', `${this.where}: answer to ${req.path} is larger than ${MAX_BODY} bytes`));
          } else chunks.push(c);
        });
        res.on('error', (e) => reject(socketError(e, this.where)));
        res.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          sock.destroy();
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = text.trim() === '' ? null : JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
        });
      });
      r.end(body);
    });
  }
}
