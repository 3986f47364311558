/**
 * HTTP/1.1 over a raw socket, byte for byte: the odd request targets an
 * attacker sends (`/%61pi/...`, `//api`, absolute-form, `;` parameters) never
 * survive fetch() or inject(), which normalise or skip HTTP parsing. Over TLS
 * the certificate is checked against a pinned fingerprint first.
 */
import net from 'node:net';
import tls from 'node:tls';

/** Where to send: a URL origin; `fingerprint` pins an https origin. */
export interface RawTarget {
  origin: string;
  fingerprint?: string | null;
}

/** A parsed answer. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

/** Build a request: `headers` may override Host; `null` drops a header. */
export function buildRequest(
  method: string,
  requestTarget: string,
  hostHeader: string | null,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Buffer {
  const lines = [`${method} ${requestTarget} HTTP/1.1`];
  if (hostHeader !== null) lines.push(`Host: ${hostHeader}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  lines.push('Connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n')), body === undefined ? Buffer.alloc(0) : Buffer.from(body)]);
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const nl = b.indexOf('\r\n', i);
    if (nl < 0) break;
    const n = parseInt(b.subarray(i, nl).toString(), 16);
    if (!n) break;
    out.push(b.subarray(nl + 2, nl + 2 + n));
    i = nl + 2 + n + 2;
  }
  return Buffer.concat(out);
}

function parse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const [statusLine, ...hl] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of hl) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  const text = body.toString('utf8');
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: text, json: () => JSON.parse(text) };
}

/**
 * Send `request` verbatim and read the answer until the server closes. A
 * server that keeps the connection open past `timeoutMs` (an SSE stream a
 * check failed to close) yields what arrived so far, with status 0 if nothing.
 */
export function rawRequest(t: RawTarget, request: Buffer | string, timeoutMs = 10_000): Promise<RawResponse> {
  const u = new URL(t.origin);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onSocket = (s: net.Socket) => {
      s.setTimeout(timeoutMs, () => s.destroy());
      s.on('data', (d: Buffer) => chunks.push(d));
      s.once('error', reject);
      s.once('close', () => resolve(parse(Buffer.concat(chunks))));
    };
    if (u.protocol === 'https:') {
      const s = tls.connect({ host, port, rejectUnauthorized: false });
      onSocket(s);
      s.once('secureConnect', () => {
        const got = s.getPeerX509Certificate()?.fingerprint256;
        if (got !== t.fingerprint) {
          s.destroy();
          reject(new Error(`certificate ${got} is not the pinned ${t.fingerprint}`));
        } else s.write(request);
      });
    } else {
      const s = net.connect(port, host, () => s.write(request));
      onSocket(s);
    }
  });
}
