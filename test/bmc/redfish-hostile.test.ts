/**
 * A hostile or broken "BMC" (any HTTPS server on the management network can claim to be one): answers that
 * are too large, not Redfish, or that try to steer the driver (and its credentials) to other URLs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createDriver } from '../../server/bmc/drivers.ts';
import type { BmcTarget } from '../../server/bmc/driver.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { makeCert } from './peers/tls-cert.ts';

type Handler = (req: { method: string; url: string; auth: string | undefined }) => {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
};

let dir: string;
let server: https.Server;
let port: number;
let handler: Handler;
const seen: { method: string; url: string }[] = [];

const ROOT = JSON.stringify({ RedfishVersion: '1.6.0', Systems: { '@odata.id': '/redfish/v1/Systems' } });
const target = (over: Partial<BmcTarget> = {}): BmcTarget => ({
  driver: 'redfish',
  address: '127.0.0.1',
  port,
  username: 'u',
  password: 'hostile-test-pw',
  system_path: null,
  tls: 'skip',
  tls_fingerprint: null,
  ipmi_cipher_suite: null,
  ...over,
});
const drive = () =>
  createDriver(target(), {
    timings: { requestTimeoutMs: 5000, retries: 0, pollMs: 100, softOffTimeoutMs: 1000, transitionTimeoutMs: 1000 },
  });

async function failure(p: Promise<unknown>): Promise<CcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CcError);
    return e as CcError;
  }
  throw new Error('expected the BMC call to fail');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-hostile-`));
  const cert = makeCert(dir, 'hostile');
  server = https.createServer({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) }, (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    req.on('end', () => {
      const a = handler({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a hostile Redfish BMC', () => {
  it('an answer larger than 4 MiB is cut off: protocol error, not memory', async () => {
    handler = () => ({ status: 200, body: Buffer.alloc(5 * 1024 * 1024, 0x20) });
    expect((await failure(drive().power('status'))).code).toBe('CC_ERR_BMC_PROTOCOL');
  });

  it('a web server that is not Redfish: protocol error naming it', async () => {
    handler = () => ({ status: 200, body: '<html>router login</html>', headers: { 'content-type': 'text/html' } });
    const e = await failure(drive().power('status'));
    expect(e.code).toBe('CC_ERR_BMC_PROTOCOL');
    expect(e.message).toContain('not a Redfish service root');
  });

  it('links and action targets pointing elsewhere are never followed', async () => {
    seen.length = 0;
    handler = ({ url }) => {
      if (url === '/redfish/v1/') return { status: 200, body: ROOT };
      if (url === '/redfish/v1/Systems')
        return {
          status: 200,
          body: JSON.stringify({
            Members: [{ '@odata.id': 'https://203.0.113.9/redfish/v1/Systems/1' }, { '@odata.id': '//203.0.113.9/x' }],
          }),
        };
      if (url === '/redfish/v1/Systems/1')
        return {
          status: 200,
          body: JSON.stringify({
            PowerState: 'Off',
            Actions: { '#ComputerSystem.Reset': { target: 'https://203.0.113.9/steal', 'ResetType@Redfish.AllowableValues': ['On'] } },
          }),
        };
      return { status: 404, body: '{}' };
    };
    const discovered = await failure(drive().power('status'));
    expect(discovered.code).toBe('CC_ERR_BMC_SYSTEM_PATH');
    expect(discovered.message).toContain('lists 0 systems');
    const steer = await failure(createDriver(target({ system_path: '/redfish/v1/Systems/1' }), { timings: { retries: 0 } }).power('on'));
    expect(steer.code).toBe('CC_ERR_BMC_REFUSED');
    expect(steer.message).toContain('no ComputerSystem.Reset action');
    // Every request went to this server and to /redfish paths only.
    expect(seen.every((r) => r.url.startsWith('/redfish/'))).toBe(true);
  });

  it('a garbage PowerState is "unknown", never on or off', async () => {
    handler = ({ url }) =>
      url === '/redfish/v1/'
        ? { status: 200, body: ROOT }
        : { status: 200, body: JSON.stringify({ PowerState: { $gt: 1 }, Boot: 'x', Actions: [] }) };
    expect(await createDriver(target({ system_path: '/redfish/v1/Systems/1' })).power('status')).toEqual({
      power: 'unknown',
      warnings: [],
    });
  });

  it('a BMC that echoes the credentials never gets them into an error or a warning (bmc.error events, API answers)', async () => {
    const pw = target().password;
    const basic = Buffer.from(`u:${pw}`).toString('base64');
    const leaks = (text: string) => [pw, basic].filter((x) => text.includes(x));
    // Basic auth: a Redfish error body quoting the password and the Authorization header it was sent.
    handler = ({ url, auth }) =>
      url === '/redfish/v1/'
        ? { status: 200, body: ROOT }
        : {
            status: 500,
            body: JSON.stringify({
              error: { message: `internal error for password ${pw}`, '@Message.ExtendedInfo': [{ Message: `header was ${auth}` }] },
            }),
          };
    const echoed = await failure(drive().power('status'));
    expect(echoed.code).toBe('CC_ERR_BMC_REFUSED');
    expect(echoed.message).toContain('internal error for password [redacted]; header was Basic [redacted]');
    expect(leaks(echoed.message)).toEqual([]);

    // A session login refused with plain text that quotes the password.
    const withSessions = JSON.stringify({
      ...JSON.parse(ROOT),
      Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
    });
    handler = ({ url }) =>
      url === '/redfish/v1/'
        ? { status: 200, body: withSessions }
        : { status: 401, body: `login failed for u with\n${pw}`, headers: { 'content-type': 'text/plain' } };
    const login = await failure(drive().power('status'));
    expect(login.code).toBe('CC_ERR_BMC_AUTH');
    expect(login.message).toContain('login failed for u with [redacted]');
    expect(leaks(login.message)).toEqual([]);

    // The password planted among the values the BMC offers, which a refusal lists.
    handler = ({ url }) =>
      url === '/redfish/v1/'
        ? { status: 200, body: ROOT }
        : {
            status: 200,
            body: JSON.stringify({
              PowerState: 'Off',
              Actions: {
                '#ComputerSystem.Reset': {
                  target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
                  'ResetType@Redfish.AllowableValues': [pw, 'ForceOff'],
                },
              },
            }),
          };
    const planted = await failure(createDriver(target({ system_path: '/redfish/v1/Systems/1' }), { timings: { retries: 0 } }).power('on'));
    expect(planted.code).toBe('CC_ERR_BMC_REFUSED');
    expect(planted.message).toContain('[redacted], ForceOff');
    expect(leaks(planted.message)).toEqual([]);
  });
});
