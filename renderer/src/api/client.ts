/**
 * The one HTTP client of the UI. Same origin by default (the admin plane serves the UI);
 * inside Electron the preload supplies the origin and the admin token instead.
 */
import type { AdminRouteKey, JsonRouteKey, RouteAnswer, RouteBody, RouteInput, RouteParams } from '../../../contract/routes.ts';
import { routeRequest, type RouteRequestInput } from '../../../contract/route-request.ts';
import { ApiError, apiErrorFrom, unreachableError } from './api-error.ts';

/** Where requests go and which credential they carry. */
export interface ClientAuth {
  baseUrl: string;
  token: string | null;
}

const TOKEN_KEY = 'crashcart.token';
const auth: ClientAuth = { baseUrl: '', token: null };

/** Set the origin and token (Electron bridge, or a token the operator pasted). */
export function configureClient(next: Partial<ClientAuth>): void {
  if (next.baseUrl !== undefined) auth.baseUrl = next.baseUrl.replace(/\/$/, '');
  if (next.token !== undefined) auth.token = next.token;
}

/** Remember a pasted token for this tab only (sessionStorage, never a URL). */
export function rememberToken(token: string | null): void {
  auth.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Restore a token remembered earlier in this tab. */
export function restoreToken(): void {
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (t) auth.token = t;
}

/** Absolute URL of an API path, for links (exports) and streams. */
export function apiUrl(path: string): string {
  return `${auth.baseUrl}${path}`;
}

/** Headers carrying the credential (cookie auth needs none: same origin sends it). */
export function authHeaders(): Record<string, string> {
  return auth.token ? { Authorization: `Bearer ${auth.token}` } : {};
}

/** One JSON request; throws ApiError with the server's message and fix. */
async function request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw unreachableError(e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 300) };
    }
  }
  if (!res.ok) throw apiErrorFrom(res.status, parsed);
  return parsed;
}

/** What a call of route K takes: its input (params, query, body) when it has one, and an abort signal. */
export type CallArgs<K extends AdminRouteKey> = [RouteParams<K>, RouteBody<K>] extends [undefined, undefined]
  ? [input?: RouteInput<K> & { signal?: AbortSignal }]
  : [input: RouteInput<K> & { signal?: AbortSignal }];

/**
 * Call one admin route, typed from the route table (contract/routes.ts):
 * `call('GET /api/v1/nodes/:id', { params: { id } })` resolves with a `Node`.
 */
export async function call<K extends JsonRouteKey>(key: K, ...args: CallArgs<K>): Promise<RouteAnswer<K>> {
  const input = (args[0] ?? {}) as RouteRequestInput & { signal?: AbortSignal };
  const r = routeRequest(key, input);
  return (await request(r.method, r.path, r.body, input.signal)) as RouteAnswer<K>;
}

/** The admin API, as the UI calls it. */
export const api = { call };

/** Absolute URL of a route that is linked rather than called (the CSV export, the event stream). */
export function routeUrl<K extends AdminRouteKey>(key: K, ...args: CallArgs<K>): string {
  return apiUrl(routeRequest(key, (args[0] ?? {}) as RouteRequestInput).path);
}

/** Routes that take a raw upload. */
type UploadRouteKey = 'PUT /api/v1/images/:name/files/:file' | 'PUT /api/v1/microkernel/staging/:file';

/** Upload a raw file to an upload route, with progress (XHR: fetch has no upload progress). */
export function uploadFile<K extends UploadRouteKey>(
  key: K,
  input: RouteInput<K>,
  file: Blob,
  onProgress: (loaded: number, total: number) => void,
): Promise<RouteAnswer<K>> {
  const r = routeRequest(key, input as RouteRequestInput);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(r.method, apiUrl(r.path));
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(unreachableError('upload interrupted'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { message: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as RouteAnswer<K>);
      else reject(apiErrorFrom(xhr.status, body));
    };
    xhr.send(file);
  });
}

/** True for the errors that mean "sign in again". */
export function isAuthError(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 401 || e.status === 403);
}
