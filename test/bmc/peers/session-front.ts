/**
 * sushy-tools has no SessionService, so the Redfish session flow (DSP0266 13.3.4: POST credentials to the
 * Sessions collection named in the service root's Links.Sessions, X-Auth-Token on every request, DELETE
 * the session at the end) is exercised through this small HTTPS front written for the test: it keeps the
 * sessions and forwards every authenticated request to the real emulator with basic auth. It records how
 * each request authenticated, so the test can prove the driver sent the token and never the password.
 */
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TestCert } from './tls-cert.ts';
import fs from 'node:fs';

/** One request the front saw. */
export interface FrontRequest {
  method: string;
  path: string;
  auth: 'token' | 'basic' | 'none';
}

const SESSIONS = '/redfish/v1/SessionService/Sessions';

/** Start the front on 127.0.0.1 (port 0) before the emulator on `upstreamPort`. */
export async function startSessionFront(o: { upstreamPort: number; cert: TestCert; username: string; password: string }) {
  const tokens = new Map<string, string>();
  const seen: FrontRequest[] = [];
  const deleted: string[] = [];
  const basic = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  const forward = (method: string, path: string, body: Buffer, headers: Record<string, string>) =>
    new Promise<{ status: number; body: Buffer; type: string }>((resolve, reject) => {
      const r = https.request(
        { host: '127.0.0.1', port: o.upstreamPort, method, path, rejectUnauthorized: false, agent: false, headers },
        (res) => {
          const c: Buffer[] = [];
          res.on('data', (d: Buffer) => c.push(d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, body: Buffer.concat(c), type: String(res.headers['content-type'] ?? '') }),
          );
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  const server = https.createServer({ cert: fs.readFileSync(o.cert.certFile), key: fs.readFileSync(o.cert.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = req.url ?? '/';
        const token = req.headers['x-auth-token'];
        const auth = typeof token === 'string' ? 'token' : req.headers.authorization ? 'basic' : 'none';
        seen.push({ method: req.method ?? '', path, auth });
        const body = Buffer.concat(chunks);
        if (req.method === 'GET' && (path === '/redfish/v1/' || path === '/redfish/v1')) {
          const root = JSON.parse((await forward('GET', '/redfish/v1/', Buffer.alloc(0), {})).body.toString('utf8'));
          root.Links = { Sessions: { '@odata.id': SESSIONS } };
          root.SessionService = { '@odata.id': '/redfish/v1/SessionService' };
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(root));
        }
        if (req.method === 'POST' && path === SESSIONS) {
          const creds = JSON.parse(body.toString('utf8') || '{}');
          if (creds.UserName !== o.username || creds.Password !== o.password)
            return res.writeHead(401).end('{"error":{"message":"bad credentials"}}');
          const id = randomBytes(4).toString('hex');
          const t = randomBytes(16).toString('hex');
          tokens.set(t, id);
          return res
            .writeHead(201, { 'x-auth-token': t, location: `${SESSIONS}/${id}`, 'content-type': 'application/json' })
            .end(JSON.stringify({ '@odata.id': `${SESSIONS}/${id}`, Id: id }));
        }
        if (typeof token !== 'string' || !tokens.has(token)) return res.writeHead(401).end('{"error":{"message":"no session"}}');
        if (req.method === 'DELETE' && path === `${SESSIONS}/${tokens.get(token)}`) {
          deleted.push(tokens.get(token)!);
          tokens.delete(token);
          return res.writeHead(204).end();
        }
        const headers: Record<string, string> = { authorization: basic };
        if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
        const up = await forward(req.method ?? 'GET', path, body, headers);
        res.writeHead(up.status, up.type ? { 'content-type': up.type } : {}).end(up.body);
      })().catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    deleted,
    live: () => tokens.size,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
