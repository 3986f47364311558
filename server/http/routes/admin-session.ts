/**
 * Sign-in and sign-out: trade a one-time login code for a session cookie, end
 * one session, end every session and rotate the token ("sign out everywhere"),
 * and mint a fresh login link for the token holder (`crashcart login`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CoreContext } from '../../core/context.ts';
import type { AdminAuth } from '../admin-auth.ts';
import { signOutEverywhere } from '../admin-auth.ts';
import { addRoute } from '../route-table.ts';
import { ccError } from '../../errors/cc-error.ts';
import * as D from '../../config/defaults.ts';

/** What the session routes need beyond the core. */
export interface SessionOptions {
  auth: AdminAuth;
  cookieName: string;
  /** HTTPS: the cookie is then `Secure` (and `__Host-` prefixed). */
  secure: boolean;
  sessionMaxS: number;
  /** The UI URL that signs a browser in with `code`. */
  loginUrl(code: string): string;
}

/** Register the session routes. */
export function sessionRoutes(app: FastifyInstance, ctx: CoreContext, o: SessionOptions): void {
  const clear = (reply: FastifyReply) =>
    reply.clearCookie(o.cookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: o.secure });

  addRoute(app, 'POST /api/v1/session', async (req, reply) => {
    const res = o.auth.exchange(req.body.code);
    if ('refused' in res) throw ccError('CC_ERR_LOGIN_CODE', res.refused === 'expired' ? 'this code expired' : undefined);
    void reply.setCookie(o.cookieName, res.session, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: o.secure,
      maxAge: o.sessionMaxS,
    });
    return { ok: true };
  });

  addRoute(app, 'DELETE /api/v1/session', async (req, reply) => {
    const s = req.cookies[o.cookieName];
    if (s) o.auth.endSession(s);
    clear(reply);
  });

  addRoute(app, 'POST /api/v1/session/revoke-all', async (_req, reply) => {
    const n = await signOutEverywhere(ctx.config.dataDir, o.auth, ctx.events);
    clear(reply);
    return { ok: true, sessions_ended: n };
  });

  addRoute(app, 'POST /api/v1/session/login-code', async () => {
    const code = o.auth.newLoginCode();
    return { code, url: o.loginUrl(code), expires_in_s: D.LOGIN_CODE_TTL_S };
  });
}
