/**
 * Admin credentials: a bearer token generated on first start and stored 0600 in
 * the data dir (`crashcart token` prints it), one-time login codes (the
 * `#login=` link a headless start prints), and session cookies they buy.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** File name of the admin token in the data dir. */
export const TOKEN_FILE = 'admin-token';

/** Read the admin token, creating it (0600) on first start. */
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
  const t = randomBytes(32).toString('base64url');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(file, `${t}\n`, { mode: 0o600 });
  return t;
}

const eq = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Sessions and login codes, in memory (a restart logs browsers out; the token still works). */
export class AdminAuth {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Set<string>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True for the admin token. */
  checkToken(t: string): boolean {
    return eq(t, this.token);
  }

  /** A one-time login code valid for `ttlMs`. */
  newLoginCode(ttlMs = 24 * 3600_000): string {
    const c = randomBytes(18).toString('base64url');
    this.codes.set(c, this.now() + ttlMs);
    return c;
  }

  /** Exchange a login code (or the token itself) for a session id; null if invalid. */
  exchange(code: string): string | null {
    const exp = this.codes.get(code);
    const ok = (exp !== undefined && exp > this.now()) || this.checkToken(code);
    this.codes.delete(code);
    if (!ok) return null;
    const s = randomBytes(24).toString('base64url');
    this.sessions.add(s);
    return s;
  }

  /** True for a live session id. */
  checkSession(s: string): boolean {
    return this.sessions.has(s);
  }
}
