/**
 * Admin credentials: a bearer token generated on first start and stored 0600 in
 * the data dir (`crashcart token` prints it), one-time login codes (the
 * `#login=` link `serve` prints) and the browser sessions they buy.
 * Sessions live in memory: a restart signs browsers out, the token stays.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileDurably } from '../store/durable-file.ts';
import * as D from '../config/defaults.ts';
import type { EventSink } from '../events/event-log.ts';

/** File name of the admin token in the data dir. */
export const TOKEN_FILE = 'admin-token';

const newToken = () => randomBytes(32).toString('base64url');

/** Read the admin token, creating it (0600, durably) on first start. */
export async function ensureAdminToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const t = (await fs.readFile(file, 'utf8')).trim();
    if (t.length >= 32) {
      await fs.chmod(file, 0o600);
      return t;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const t = newToken();
  await writeFileDurably(file, `${t}\n`, 0o600);
  return t;
}

/** Replace the token file with a fresh token (temp + fsync + rename + fsync dir); returns it. */
export async function rotateAdminToken(dataDir: string): Promise<string> {
  const t = newToken();
  await writeFileDurably(path.join(dataDir, TOKEN_FILE), `${t}\n`, 0o600);
  return t;
}

const eq = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Lifetimes, in milliseconds. */
export interface AuthLifetimes {
  codeTtlMs: number;
  sessionIdleMs: number;
  sessionMaxMs: number;
}

/** Lifetimes from the config's seconds. */
export function lifetimes(sessionIdleS: number, sessionMaxS: number): AuthLifetimes {
  return { codeTtlMs: D.LOGIN_CODE_TTL_S * 1000, sessionIdleMs: sessionIdleS * 1000, sessionMaxMs: sessionMaxS * 1000 };
}

interface Session {
  created: number;
  seen: number;
}

/** Why a credential was refused (for the error message). */
export type Refusal = 'unknown' | 'expired';

/** Sessions and login codes, in memory. */
export class AdminAuth {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private token: string,
    private readonly life: AuthLifetimes = lifetimes(D.DEFAULT_SESSION_IDLE_S, D.DEFAULT_SESSION_MAX_S),
    private readonly now: () => number = Date.now,
  ) {}

  /** True for the current admin token. */
  checkToken(t: string): boolean {
    return eq(t, this.token);
  }

  /** A one-time login code, valid for ten minutes. */
  newLoginCode(): string {
    this.sweep();
    const c = randomBytes(18).toString('base64url');
    this.codes.set(c, this.now() + this.life.codeTtlMs);
    return c;
  }

  /** Spend a login code (or present the token itself) for a session id; a refusal says why. */
  exchange(code: string): { session: string } | { refused: Refusal } {
    const exp = this.codes.get(code);
    this.codes.delete(code);
    const live = exp !== undefined && exp > this.now();
    if (!live && !this.checkToken(code)) return { refused: exp !== undefined ? 'expired' : 'unknown' };
    const s = randomBytes(24).toString('base64url');
    this.sessions.set(s, { created: this.now(), seen: this.now() });
    return { session: s };
  }

  /** Check a session id and count this request as activity; an expired session is dropped. */
  checkSession(id: string): { ok: true } | { ok: false; refused: Refusal } {
    const s = this.sessions.get(id);
    if (!s) return { ok: false, refused: 'unknown' };
    const t = this.now();
    if (t - s.seen > this.life.sessionIdleMs || t - s.created > this.life.sessionMaxMs) {
      this.sessions.delete(id);
      return { ok: false, refused: 'expired' };
    }
    s.seen = t;
    return { ok: true };
  }

  /** Sign one session out. */
  endSession(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Sign out everywhere: every session and code ends, and only `nextToken` works from now on. */
  revokeAll(nextToken: string): number {
    const n = this.sessions.size;
    this.sessions.clear();
    this.codes.clear();
    this.token = nextToken;
    return n;
  }

  /** Live sessions (for status and tests). */
  get sessionCount(): number {
    this.sweep();
    return this.sessions.size;
  }

  /** Drop what expired, so the maps cannot grow without bound. */
  private sweep(): void {
    const t = this.now();
    for (const [c, exp] of this.codes) if (exp <= t) this.codes.delete(c);
    for (const [id, s] of this.sessions)
      if (t - s.seen > this.life.sessionIdleMs || t - s.created > this.life.sessionMaxMs) this.sessions.delete(id);
  }
}

/**
 * "Sign out everywhere": rotate the token file first (if writing it fails, nothing changed and the old
 * token still works), then end every session and login code, and say so. Returns the sessions ended.
 */
export async function signOutEverywhere(dataDir: string, auth: AdminAuth, events: EventSink): Promise<number> {
  const next = await rotateAdminToken(dataDir);
  const n = auth.revokeAll(next);
  events.emit('admin.signed_out_everywhere', {
    message: `Signed out everywhere: ${n} session(s) ended, admin token rotated`,
    data: { sessions_ended: n },
  });
  return n;
}
