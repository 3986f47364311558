/**
 * Sign-in and sign-out: trade a one-time login code for a session cookie, end
 * one session, end every session and rotate the token ("sign out everywhere"),
 * and mint a fresh login link for the token holder (`crashcart login`).
 */
import { Type } from 'typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CoreContext } from '../../core/context.ts';
import type { AdminAuth } from '../admin-auth.ts';
import { rotateAdminToken } from '../admin-auth.ts';
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

const Empty = Type.Object({}, { additionalProperties: false });
const Ok = Type.Object({ ok: Type.Boolean() });

/** Register the session routes. */
export function sessionRoutes(app: FastifyInstance, ctx: CoreContext, o: SessionOptions): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const clear = (reply: FastifyReply) =>
    reply.clearCookie(o.cookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: o.secure });

  r.post(
    '/api/v1/session',
    {
      config: { auth: 'open' },
      schema: {
        tags: ['session'],
        security: [],
        summary: 'Sign a browser in with a one-time login code',
        body: Type.Object({ code: Type.String({ minLength: 8, maxLength: 256 }) }, { additionalProperties: false }),
        response: { 200: Ok },
      },
    },
    async (req, reply) => {
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
    },
  );

  r.delete('/api/v1/session', { schema: { tags: ['session'], summary: 'Sign this browser out' } }, async (req, reply) => {
    const s = req.cookies[o.cookieName];
    if (s) o.auth.endSession(s);
    clear(reply);
    return reply.status(204).send();
  });

  r.post(
    '/api/v1/session/revoke-all',
    {
      schema: {
        tags: ['session'],
        summary: 'Sign out everywhere: end every session and login code and rotate the admin token',
        body: Empty,
        response: { 200: Type.Object({ ok: Type.Boolean(), sessions_ended: Type.Integer() }) },
      },
    },
    async (_req, reply) => {
      // The file first: if writing it fails, nothing changed and the old token still works.
      const next = await rotateAdminToken(ctx.config.dataDir);
      const n = o.auth.revokeAll(next);
      ctx.events.emit('admin.signed_out_everywhere', {
        message: `Signed out everywhere: ${n} session(s) ended, admin token rotated`,
        data: { sessions_ended: n },
      });
      clear(reply);
      return { ok: true, sessions_ended: n };
    },
  );

  r.post(
    '/api/v1/session/login-code',
    {
      config: { auth: 'token' },
      schema: {
        tags: ['session'],
        summary: 'A fresh one-time login link (10 minutes, single use)',
        body: Empty,
        response: { 200: Type.Object({ code: Type.String(), url: Type.String(), expires_in_s: Type.Integer() }) },
      },
    },
    async () => {
      const code = o.auth.newLoginCode();
      return { code, url: o.loginUrl(code), expires_in_s: D.LOGIN_CODE_TTL_S };
    },
  );
}
