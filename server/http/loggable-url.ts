/**
 * A request URL as a log line may show it. The redacting logger (server/secrets/redact.ts) cuts secrets by
 * field name, but a URL is one field whose value carries them: the node plane's answer files take the install
 * token as a path segment (`/api/v1/nodes/ID/files/TOKEN/NAME`) and the stage callback as a query value
 * (`/api/v1/nodes/ID/stage?token=TOKEN`), and whoever holds the token can fetch the node's answer files.
 */
import { REDACTED, SECRET_FIELD_PATTERN } from '../secrets/redact.ts';

/**
 * A query value that looks like a credential whatever its key: one run of base64/base64url/hex of at least
 * 20 characters (install tokens are 24 base64url characters, admin tokens 43). A long serial number may be
 * cut too; a log line loses little by it.
 */
const TOKEN_LIKE = /^[A-Za-z0-9_+/-]{20,}={0,2}$/;

/** `s` percent-decoded (`+` as a space in a query), or as it is when it is not valid percent-encoding. */
function decoded(s: string, query = false): string {
  try {
    return decodeURIComponent(query ? s.replace(/\+/g, ' ') : s);
  } catch {
    return s;
  }
}

/** The path with the token segment of `/api/v1/nodes/ID/files/TOKEN/...` replaced (compared decoded, as the router does). */
function loggablePath(p: string): string {
  const segs = p.split('/');
  const plain = segs.map((s) => decoded(s));
  for (let i = 0; i < segs.length; i++) if (plain[i - 1] === 'files' && plain[i - 3] === 'nodes') segs[i] = REDACTED;
  return segs.join('/');
}

/** The query with the value of every secret-named key (`token`, `password`, ...) and every token-like value replaced. */
function loggableQuery(q: string): string {
  return q
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const key = pair.slice(0, eq);
      const value = decoded(pair.slice(eq + 1), true);
      return SECRET_FIELD_PATTERN.test(decoded(key, true)) || TOKEN_LIKE.test(value) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
}

/** `url` (a request target: path and query) with install tokens and token-like query values cut out. */
export function loggableUrl(url: string): string {
  const hash = url.indexOf('#');
  const target = hash < 0 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  return q < 0 ? loggablePath(target) : `${loggablePath(target.slice(0, q))}?${loggableQuery(target.slice(q + 1))}`;
}
