/** Sign-in shapes of the admin API (docs/security.md "Admin credentials"). */
import { Type, type Static } from 'typebox';

/** POST /api/v1/session: trade a one-time login code for a session cookie. */
export const LoginRequestSchema = Type.Object({ code: Type.String({ minLength: 8, maxLength: 256 }) }, { additionalProperties: false });
/** Login request. */
export type LoginRequest = Static<typeof LoginRequestSchema>;

/** A plain acknowledgement. */
export const OkSchema = Type.Object({ ok: Type.Boolean() });

/** Answer of "sign out everywhere". */
export const RevokeAllSchema = Type.Object({ ok: Type.Boolean(), sessions_ended: Type.Integer() });
/** Sign-out-everywhere answer. */
export type RevokeAll = Static<typeof RevokeAllSchema>;

/** A fresh one-time login link. */
export const LoginCodeSchema = Type.Object({ code: Type.String(), url: Type.String(), expires_in_s: Type.Integer() });
/** Login link. */
export type LoginCode = Static<typeof LoginCodeSchema>;

/** The body of a POST that carries nothing (it still has a schema: no route takes text/plain). */
export const EmptySchema = Type.Object({}, { additionalProperties: false });
