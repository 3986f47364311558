/**
 * Redfish TLS policies and BMCs that misbehave: pin on first use then refuse a changed certificate (the
 * real emulator restarted with a new one, and an impostor that must receive no credentials), verify and
 * skip, a BMC that accepts and never answers (timeout, retries only where safe, no socket left open).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import tls from 'node:tls';
import https from 'node:https';
import path from 'node:path';
import { createDriver } from '../../server/bmc/drivers.ts';
import { runBulkPower } from '../../server/bmc/bulk-power.ts';
import { RedfishHttp } from '../../server/bmc/redfish/http-client.ts';
import { realSleep, type BmcTarget, type BmcTimings } from '../../server/bmc/driver.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import type { EventInput, EventSink } from '../../server/events/event-log.ts';
import { startNotifier, startSushy, type FakeSystem, type SushyPeer } from './peers/sushy.ts';
import { makeCert, type TestCert } from './peers/tls-cert.ts';
import { freeTcpPort, waitFor } from './peers/net.ts';
import { makeEvent } from '../support/events.ts';

const TIMINGS: BmcTimings = { requestTimeoutMs: 5_000, softOffTimeoutMs: 10_000, transitionTimeoutMs: 20_000, pollMs: 500, retries: 1 };
const USER = 'admin';
const PASSWORD = 'Tls-Test-Pw-0042';
const SYSTEM: FakeSystem = {
  uuid: '0badc0de-0000-4000-8000-0000000000a1',
  name: 'tls-1',
  power_state: 'Off',
  external_notifier: false,
  nics: [],
};

let dir: string;
let certA: TestCert;
let certB: TestCert;
let port: number;
let sushy: SushyPeer | null = null;
let notifier: Awaited<ReturnType<typeof startNotifier>>;

const target = (over: Partial<BmcTarget> = {}): BmcTarget => ({
  driver: 'redfish',
  address: '127.0.0.1',
  port,
  username: USER,
  password: PASSWORD,
  system_path: null,
  tls: 'pin',
  tls_fingerprint: null,
  ipmi_cipher_suite: null,
  ...over,
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

function recorder(): EventSink & { seen: { type: string; e: EventInput }[] } {
  const seen: { type: string; e: EventInput }[] = [];
  return {
    seen,
    emit: (type, e) => (seen.push({ type, e }), makeEvent(type, seen.length, e)),
  };
}

/** A server that accepts connections and never says a byte (a hung BMC); counts connections, requests and closes. */
async function silentServer(kind: 'tcp' | 'tls', cert: TestCert) {
  const stats = { connections: 0, open: 0, requests: 0, bytesAfterHandshake: 0 };
  const server =
    kind === 'tcp'
      ? net.createServer((s) => s.resume()) // read (and drop) what comes, so the client's FIN is seen
      : tls.createServer({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) }, (s) => {
          s.on('error', () => {});
          s.on('data', (d: Buffer) => {
            stats.bytesAfterHandshake += d.length;
            // One HTTP request head per exchange (the client opens a connection per request).
            if (d.includes('\r\n\r\n')) stats.requests++;
          });
        });
  // Count at the TCP level: a client that drops the handshake never becomes a TLS connection.
  server.on('connection', (s: net.Socket) => {
    stats.connections++;
    stats.open++;
    s.on('close', () => stats.open--);
    s.on('error', () => {});
  });
  if (kind === 'tls') (server as tls.Server).on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-tls-`));
  certA = makeCert(dir, 'bmc-a');
  certB = makeCert(dir, 'bmc-b');
  notifier = await startNotifier(() => {});
  sushy = await startSushy({ dir, cert: certA, username: USER, password: PASSWORD, systems: [SYSTEM], notifierUrl: notifier.url });
  // The restarts below take the same port: what the driver pinned is then the only thing that changed.
  port = sushy.port;
}, 60_000);

afterAll(async () => {
  await sushy?.stop();
  await notifier?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redfish TLS policies', () => {
  it('verify: a self-signed BMC certificate is untrusted, and trusted once its CA is given', async () => {
    const e = await failure(createDriver(target({ tls: 'verify' }), { timings: TIMINGS }).power('status'));
    expect(e.code).toBe('CC_ERR_BMC_TLS_UNTRUSTED');
    expect(e.fix).toMatch(/"pin"/);
    expect((await createDriver(target({ tls: 'verify' }), { timings: TIMINGS, ca: certA.pem }).power('status')).power).toBe('off');
  });

  it('pin: the first contact pins the certificate; the discovered single system is used', async () => {
    const pinned: string[] = [];
    const d = createDriver(target(), { timings: TIMINGS, onPinned: (fp) => pinned.push(fp) });
    expect((await d.probe()).info.system_path).toBe(`/redfish/v1/Systems/${SYSTEM.uuid}`);
    expect(pinned).toEqual([certA.fingerprint]);
    expect(
      (await createDriver(target({ tls_fingerprint: certA.fingerprint.toLowerCase() }), { timings: TIMINGS }).power('status')).power,
    ).toBe('off');
  });

  it('pin: an impostor with another certificate is refused before it receives a byte', async () => {
    const impostor = await silentServer('tls', certB);
    try {
      const e = await failure(
        createDriver(target({ port: impostor.port, tls_fingerprint: certA.fingerprint }), { timings: TIMINGS }).power('on'),
      );
      expect(e.code).toBe('CC_ERR_BMC_TLS_CHANGED');
      expect(e.details).toEqual({ expected: certA.fingerprint, presented: certB.fingerprint });
      expect(impostor.stats.connections).toBe(1);
      await waitFor('the client to hang up', () => (impostor.stats.open === 0 ? true : undefined));
      expect(impostor.stats.bytesAfterHandshake).toBe(0);
    } finally {
      await impostor.close();
    }
  });

  it('pin: the same BMC restarted with a new certificate is refused, with an event; skip still reaches it', async () => {
    await sushy!.stop();
    sushy = await startSushy({ dir, port, cert: certB, username: USER, password: PASSWORD, systems: [SYSTEM], notifierUrl: notifier.url });
    const ev = recorder();
    const [r] = await runBulkPower(
      [
        {
          node_id: 7,
          mac: '52:54:00:00:00:07',
          open: () => createDriver(target({ tls_fingerprint: certA.fingerprint }), { timings: TIMINGS }),
        },
      ],
      {
        action: 'on',
        concurrency: 1,
        staggerMs: 0,
        events: ev,
      },
    );
    expect(r).toMatchObject({ node_id: 7, ok: false, code: 'CC_ERR_BMC_TLS_CHANGED' });
    expect(r!.reason).toContain(certB.fingerprint);
    const changed = ev.seen.find((s) => s.type === 'bmc.tls_changed');
    expect(changed?.e).toMatchObject({ node_id: 7, data: { expected: certA.fingerprint, presented: certB.fingerprint } });
    expect(
      (await createDriver(target({ tls: 'pin', tls_fingerprint: certB.fingerprint }), { timings: TIMINGS }).power('status')).power,
    ).toBe('off');
    expect(
      (await createDriver(target({ tls: 'skip', tls_fingerprint: certA.fingerprint }), { timings: TIMINGS }).power('status')).power,
    ).toBe('off');
  }, 60_000);
});

describe('a BMC that does not answer', () => {
  it('accepts TCP and never speaks TLS: timeout after the retries, every socket closed', async () => {
    const hung = await silentServer('tcp', certA);
    try {
      const e = await failure(
        createDriver(target({ port: hung.port }), { timings: { ...TIMINGS, requestTimeoutMs: 800, retries: 1 } }).power('status'),
      );
      expect(e.code).toBe('CC_ERR_BMC_TIMEOUT');
      expect(hung.stats.connections).toBe(2);
      await waitFor('the client to close its sockets', () => (hung.stats.open === 0 ? true : undefined));
    } finally {
      await hung.close();
    }
  }, 30_000);

  it('completes TLS and never answers HTTP: a GET is retried, a POST action is sent once', async () => {
    const hung = await silentServer('tls', certA);
    try {
      const http = (retries: number) =>
        new RedfishHttp({
          tls: { host: '127.0.0.1', port: hung.port, policy: 'skip', fingerprint: null },
          timeoutMs: 800,
          retries,
          sleep: realSleep,
        });
      expect((await failure(http(2).request({ method: 'GET', path: '/redfish/v1/' }))).code).toBe('CC_ERR_BMC_TIMEOUT');
      await waitFor('three GETs', () => (hung.stats.requests === 3 ? true : undefined), 50);
      const before = hung.stats.requests;
      const post = await failure(
        http(2).request({ method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', body: { ResetType: 'On' } }),
      );
      expect(post.code).toBe('CC_ERR_BMC_TIMEOUT');
      await waitFor('the POST', () => (hung.stats.requests === before + 1 ? true : undefined), 50);
      await waitFor('the client to close its sockets', () => (hung.stats.open === 0 ? true : undefined));
      expect(hung.stats.requests).toBe(before + 1);
    } finally {
      await hung.close();
    }
  }, 30_000);

  it('refuses the connection: unreachable', async () => {
    const closed = await freeTcpPort();
    const e = await failure(createDriver(target({ port: closed }), { timings: { ...TIMINGS, retries: 0 } }).power('on'));
    expect(e.code).toBe('CC_ERR_BMC_UNREACHABLE');
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('drops a connection before the handshake: a POST is retried, since nothing was sent', async () => {
    let connections = 0;
    const posts: string[] = [];
    const server = https.createServer({ cert: fs.readFileSync(certA.certFile), key: fs.readFileSync(certA.keyFile) }, (req, res) => {
      posts.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    server.on('connection', (s: net.Socket) => {
      if (++connections === 1) s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const a = await new RedfishHttp({
        tls: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, policy: 'skip', fingerprint: null },
        timeoutMs: 5000,
        retries: 1,
        sleep: realSleep,
      }).request({ method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', body: { ResetType: 'On' } });
      expect(a.status).toBe(204);
      expect(connections).toBe(2);
      expect(posts).toEqual(['POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
