/**
 * Sign-in: the headless server prints `http://HOST/#login=CODE` (as Jupyter does). The UI
 * trades the one-time code for the `cc_session` cookie and removes it from the address bar
 * so it is not left in history or screenshots. Inside Electron the preload supplies the token.
 */
import { call, configureClient, restoreToken } from './client.ts';
import { ApiError } from './api-error.ts';

/** Extract a one-time login code from a location hash, if there is one. */
export function loginCodeFrom(hash: string): string | null {
  const m = /(?:^#|[#&])login=([^&]+)/.exec(hash);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

/** What sign-in found out. */
export type SignInResult = { ok: true; version: string } | { ok: false; error: ApiError };

/** Run once at start: bridge token, else login code, else an existing cookie or pasted token. */
export async function signIn(win: Window = window): Promise<SignInResult> {
  try {
    if (win.crashcart) {
      const conn = await win.crashcart.getConnection();
      configureClient({ baseUrl: conn.baseUrl, token: conn.token });
    } else {
      restoreToken();
    }
    const health = await call('GET /api/v1/health');
    const code = loginCodeFrom(win.location.hash);
    if (code) {
      // Remove the code before anything else: it is single use either way.
      win.history.replaceState(null, '', `${win.location.pathname}${win.location.search}#/nodes`);
      await call('POST /api/v1/session', { body: { code } });
    }
    // A cheap authenticated call tells "signed in" from "token wrong".
    await call('GET /api/v1/status');
    return { ok: true, version: health.version };
  } catch (e) {
    if (e instanceof ApiError) return { ok: false, error: e };
    return { ok: false, error: new ApiError(0, 'CC_UI_UNKNOWN', e instanceof Error ? e.message : String(e), '') };
  }
}
