/**
 * HTTP requests from a chosen source address (127.0.0.x on loopback), so one test can be several
 * machines of the rack: the appliance sees each as its own source.
 */
import http from 'node:http';

/** An answer: status, text and the parsed JSON body when there is one. */
export interface Answer {
  status: number;
  text: string;
  body: any;
}

/** One request from `from` (a local address) to `url`; `body` is sent as JSON. */
export function httpFrom(from: string, method: string, url: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        localAddress: from,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
