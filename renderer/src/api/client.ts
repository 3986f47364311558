/**
 * The one HTTP client of the UI. Same origin by default (the admin plane serves the UI);
 * inside Electron the preload supplies the origin and the admin token instead.
 */
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
export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
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
  return parsed as T;
}

/** GET shorthand. */
export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => request<T>('GET', path, undefined, signal);
/** POST shorthand. */
export const post = <T>(path: string, body: unknown): Promise<T> => request<T>('POST', path, body);
/** PUT shorthand. */
export const put = <T>(path: string, body: unknown): Promise<T> => request<T>('PUT', path, body);
/** PATCH shorthand. */
export const patch = <T>(path: string, body: unknown): Promise<T> => request<T>('PATCH', path, body);
/** DELETE shorthand. */
export const del = <T>(path: string): Promise<T> => request<T>('DELETE', path);

/** Upload a raw file with progress (XHR: fetch has no upload progress). */
export function uploadFile(path: string, file: Blob, onProgress: (loaded: number, total: number) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', apiUrl(path));
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
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(apiErrorFrom(xhr.status, body));
    };
    xhr.send(file);
  });
}

/** True for the errors that mean "sign in again". */
export function isAuthError(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 401 || e.status === 403);
}
