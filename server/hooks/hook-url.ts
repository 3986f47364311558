/**
 * Webhook URLs (pure). A webhook URL is often a credential itself: Slack, Discord, Teams, Zapier and IFTTT put
 * the token in the path after a fixed prefix (`/services/T000/B000/XXXX`), healthchecks-style pingers make the
 * whole first segment a UUID, others take `user:pass@` (RFC 3986 3.2.1) or `?token=`. So the full URL is stored
 * sealed (hook-service.ts) and is write-only; everything that shows a hook shows `displayUrl` instead:
 *
 *   scheme://host[:port]/first-segment-if-a-word/…?…#…
 *
 * Userinfo, every path segment after the first (and the first too unless it reads as a word), the query and the
 * fragment each become `…`. docs/hooks.md, "Webhook URLs", gives the rule and its reasons.
 */

/** What a masked part of a URL is shown as. */
export const URL_MASK = '…';

/**
 * A first path segment shown as it is: a lowercase word of at most 25 characters with at most one trailing digit
 * (`services`, `hooks`, `api`, `webhookb2`, `v1`). Tokens are random: mixed case or digits throughout (base62,
 * hex, a UUID), so a token that passes this is vanishingly rare.
 */
const WORD = /^[a-z][a-z_-]{0,23}[0-9]?$/;

function parse(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** Is `raw` an absolute http(s) URL delivery can use? */
export function isWebhookUrl(raw: string): boolean {
  const u = parse(raw);
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
}

/** The path as shown (the first segment when it is a word, `…` for the rest) and the part of it not shown. */
function maskPath(pathname: string): { shown: string; hidden: string } {
  const [first = '', ...rest] = pathname.split('/').slice(1);
  const keep = first === '' || WORD.test(first);
  let shown = `/${keep ? first : URL_MASK}`;
  const kept = keep ? `/${first}` : '/';
  // A lone trailing slash (`/services/`) hides nothing.
  if (rest.length === 1 && rest[0] === '') return { shown: `${shown}/`, hidden: '' };
  if (rest.length > 0) shown += `/${URL_MASK}`;
  return { shown, hidden: pathname.slice(kept.length) };
}

/** The form of `raw` the API, the UI, logs and events show: no part that could be a credential. */
export function displayUrl(raw: string): string {
  const u = parse(raw);
  if (!u) return `${/^https?:/i.exec(raw)?.[0].toLowerCase() ?? 'http:'}//${URL_MASK}`;
  return [
    `${u.protocol}//`,
    u.username || u.password ? `${URL_MASK}@` : '',
    u.host,
    maskPath(u.pathname).shown,
    u.search ? `?${URL_MASK}` : '',
    u.hash ? `#${URL_MASK}` : '',
  ].join('');
}

/** A URL's userinfo, percent-decoded (RFC 3986 2.1), or the text as it is when it does not decode. */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * What a request to `raw` is sent with: the URL without userinfo (fetch refuses a URL with credentials, and its
 * error would quote them) and, when there was userinfo, the `Authorization: Basic` value it stands for (RFC 7617),
 * which is what curl and browsers do with it.
 */
export function requestOf(raw: string): { url: string; authorization: string | null } {
  const u = parse(raw);
  if (!u || (!u.username && !u.password)) return { url: raw, authorization: null };
  const basic = Buffer.from(`${decoded(u.username)}:${decoded(u.password)}`, 'utf8').toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${basic}` };
}

/** The parts of `raw` the display form masks (userinfo, path tail, query, fragment), to cut out of error text. */
export function urlSecrets(raw: string): string[] {
  const u = parse(raw);
  if (!u) return [raw];
  const parts = [raw, u.href, u.username, u.password, decoded(u.username), decoded(u.password), u.search.slice(1), u.hash.slice(1)];
  parts.push(maskPath(u.pathname).hidden);
  return [...new Set(parts.filter((p) => p !== ''))].sort((a, b) => b.length - a.length);
}
