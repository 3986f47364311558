/**
 * The agent's HTTP client for the node plane (node:http/https, no dependency).
 * Answers are validated against the contract before use: the network is a trust boundary.
 */
import http from 'node:http';
import { loadHttps } from './lazy-https.ts';
import { Value } from 'typebox/value';
import { BmcEnrolAnswerSchema, type BmcEnrolAnswer, type BmcEnrolReport } from '../../contract/bmc-enrol.ts';
import {
  CheckinResponseSchema,
  RegisterResponseSchema,
  type CheckinRequest,
  type CheckinResponse,
  type RegisterRequest,
  type RegisterResponse,
} from '../../contract/protocol.ts';
import { TaskReportAnswerSchema, type TaskReport, type TaskReportAnswer } from '../../contract/agent-tasks.ts';
import { retryAfterMs } from './trust.ts';

/** A request must finish in this time; a hung appliance must not hang the agent. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/** Largest answer read (boot scripts and JSON answers are a few kB). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Why a call to the appliance failed. */
export type ApplianceErrorKind = 'unreachable' | 'rate-limited' | 'http' | 'protocol';

/** A failed call, with what the appliance said (code, fix) when it said something. */
export class ApplianceError extends Error {
  constructor(
    readonly kind: ApplianceErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly fix?: string,
    /** The server's Retry-After, already capped at MAX_RETRY_AFTER_MS (trust.ts). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApplianceError';
  }
}

/** Options shared by every call. */
export interface ClientOptions {
  timeoutMs?: number;
  /** Connection pool to share (the lab shares one across hundreds of simulated nodes). */
  httpAgent?: http.Agent;
  /** Extra headers (the lab tags its requests). */
  headers?: Record<string, string>;
}

/** One raw HTTP exchange; resolves with status, headers and body text. */
export async function request(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  opts: ClientOptions = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ApplianceError('protocol', `invalid appliance URL ${JSON.stringify(url)}; fix: pass --url http://IP:PORT`);
  }
  const mod = u.protocol === 'https:' ? await loadHttps() : http;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json, text/plain', ...(opts.headers ?? {}) };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const req = mod.request(u, { method, headers, agent: opts.httpAgent, timeout: opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy();
          reject(new ApplianceError('protocol', `answer from ${u.pathname} is over ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(new ApplianceError('unreachable', `${method} ${u.pathname}: ${e.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(new ApplianceError('unreachable', `${method} ${u.origin}${u.pathname}: ${e.code ?? ''} ${e.message}`.trim())),
    );
    req.end(payload);
  });
}

/** Map a non-2xx answer to an ApplianceError carrying the appliance's code and fix. */
function httpError(status: number, headers: http.IncomingHttpHeaders, text: string, what: string): ApplianceError {
  let code: string | undefined;
  let msg = text.slice(0, 300);
  let fix: string | undefined;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    code = typeof j['code'] === 'string' ? j['code'] : undefined;
    msg = typeof j['message'] === 'string' ? j['message'] : msg;
    fix = typeof j['fix'] === 'string' ? j['fix'] : undefined;
  } catch {
    // not JSON (a proxy's HTML page): keep the text
  }
  // RFC 9110 10.2.3: Retry-After accompanies 429 and 503; capped so no answer can park the agent (trust.ts).
  const wait = status === 429 || status === 503 ? retryAfterMs(headers['retry-after'], Date.now()) : undefined;
  if (status === 429) return new ApplianceError('rate-limited', `${what}: rate limited`, status, code, fix, wait);
  return new ApplianceError(
    status >= 500 ? 'unreachable' : 'http',
    `${what}: HTTP ${status}${code ? ` ${code}` : ''}: ${msg}`,
    status,
    code,
    fix,
    wait,
  );
}

/** Client for one appliance base URL (the node plane); the loop never changes it (trust.ts). */
export class ApplianceClient {
  constructor(
    readonly baseUrl: string,
    private readonly opts: ClientOptions = {},
  ) {}

  private url(p: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${p}`;
  }

  private async postJson<T>(p: string, body: unknown, check: (v: unknown) => v is T): Promise<T> {
    const r = await request('POST', this.url(p), body, this.opts);
    if (r.status < 200 || r.status > 299) throw httpError(r.status, r.headers, r.text, `POST ${p}`);
    let v: unknown;
    try {
      v = JSON.parse(r.text);
    } catch {
      throw new ApplianceError('protocol', `POST ${p}: answer is not JSON`, r.status);
    }
    if (!check(v))
      throw new ApplianceError('protocol', `POST ${p}: answer does not match the protocol (is the appliance the same version?)`, r.status);
    return v;
  }

  /** POST /api/v1/register */
  register(req: RegisterRequest): Promise<RegisterResponse> {
    return this.postJson('/api/v1/register', req, (v): v is RegisterResponse => Value.Check(RegisterResponseSchema, v));
  }

  /** POST /api/v1/checkin */
  checkin(req: CheckinRequest): Promise<CheckinResponse> {
    return this.postJson('/api/v1/checkin', req, (v): v is CheckinResponse => Value.Check(CheckinResponseSchema, v));
  }

  /** POST /api/v1/bmc-enrol: what in-band BMC enrolment did (asked for by a check-in answer). */
  bmcEnrol(req: BmcEnrolReport): Promise<BmcEnrolAnswer> {
    return this.postJson('/api/v1/bmc-enrol', req, (v): v is BmcEnrolAnswer => Value.Check(BmcEnrolAnswerSchema, v));
  }

  /** POST /api/v1/agent/task: progress or the outcome of a task; the answer says whether to go on. */
  taskReport(req: TaskReport): Promise<TaskReportAnswer> {
    return this.postJson('/api/v1/agent/task', req, (v): v is TaskReportAnswer => Value.Check(TaskReportAnswerSchema, v));
  }

  /** An absolute URL for a node-plane path (or the URL itself when it is absolute). */
  resolve(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : this.url(pathOrUrl);
  }

  /** GET a text resource (boot scripts, stage URLs), absolute or relative to the base URL. */
  async getText(pathOrUrl: string): Promise<string> {
    const u = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : this.url(pathOrUrl);
    const r = await request('GET', u, undefined, this.opts);
    if (r.status < 200 || r.status > 299) throw httpError(r.status, r.headers, r.text, `GET ${new URL(u).pathname}`);
    return r.text;
  }
}
