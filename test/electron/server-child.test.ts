/** The server child: the real server for the happy path, a failing stand-in for bind errors. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

vi.mock('electron', () => ({}));
import { ServerChild } from '../../electron/server-child.ts';
import { DEDICATED_NODE, privilegeFix, readServerLine } from '../../electron/server-output.ts';
import { writeFakeServer } from './fake-server.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cc-electron-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('server output', () => {
  it('reads the URL, the failed service and the fix; the privilege fix names the node binary', () => {
    let f = { url: null, errorCode: null, serverFix: null, fingerprint: null } as Parameters<typeof readServerLine>[0];
    for (const [stream, line] of [
      ['stdout', ''],
      ['stdout', 'Crashcart UI: http://127.0.0.1:8027/#login=xyz'],
      ['stderr', 'dhcp failed: Binding a privileged port was refused: udp 67'],
      ['stderr', '  fix: Run as root'],
    ] as const)
      f = readServerLine(f, line, stream);
    expect(f).toEqual({
      url: 'http://127.0.0.1:8027/#login=xyz',
      errorCode: 'CC_ERR_PORT_DENIED',
      serverFix: 'Run as root',
      fingerprint: null,
    });
    const fix = privilegeFix('/usr/bin/node', ['/opt/crashcart/bin/crashcart.mjs', 'serve', '--data-dir', '/var/lib/my data']);
    // Never the system node: a private, group-only copy carries the capabilities.
    expect(fix).not.toContain('setcap cap_net_bind_service,cap_net_raw+ep /usr/bin/node');
    expect(fix).toContain(`sudo install -D -o root -g "$(id -gn)" -m 0750 "$(readlink -f /usr/bin/node)" ${DEDICATED_NODE}`);
    expect(fix).toContain(`sudo setcap cap_net_bind_service,cap_net_raw+ep ${DEDICATED_NODE}`);
    expect(privilegeFix(DEDICATED_NODE, ['x']).split('\n')[0]).toBe(`sudo setcap cap_net_bind_service,cap_net_raw+ep ${DEDICATED_NODE}`);
    expect(privilegeFix('node', ['x'])).toContain('"$(readlink -f "$(command -v node)")"');
    expect(fix).toContain("pkexec /usr/bin/node /opt/crashcart/bin/crashcart.mjs serve --data-dir '/var/lib/my data'");
  });

  it('takes the URL and fingerprint from stdout only, at the start of a line, the first of each; codes and fixes from stderr', () => {
    const fp = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
    const evilFp = Array.from({ length: 32 }, () => 'EE').join(':');
    let f = { url: null, errorCode: null, serverFix: null, fingerprint: null } as Parameters<typeof readServerLine>[0];
    for (const [stream, line] of [
      // The log (stderr) quoting rack text: a hook script that echoed what a node sent.
      [
        'stderr',
        `2026-11-30T00:00:00.000Z WARN  hook delivery failed {"error":"exit 1: Crashcart UI: https://evil.example/ CC_ERR_PORT_DENIED"}`,
      ],
      ['stderr', 'Crashcart UI: https://evil.example/'],
      ['stderr', `  admin TLS:  self-signed or given certificate, SHA-256 fingerprint ${evilFp}`],
      // The readiness table (stdout) has fix lines of its own: no error's fix.
      ['stdout', 'Crashcart readiness (simulated rack):'],
      ['stdout', '  warn  loaders   missing'],
      ['stdout', '                  fix: run crashcart prepare'],
      ['stdout', '  note: Crashcart UI: https://evil.example/'],
      // What serve prints once it listens (server/cli/main.ts).
      ['stdout', ''],
      ['stdout', 'Crashcart UI: https://127.0.0.1:8027/#login=xyz'],
      ['stdout', '  sign-in:    the link works once, for 10 minutes'],
      ['stdout', `  admin TLS:  self-signed or given certificate, SHA-256 fingerprint ${fp}`],
      // Later lines never replace them.
      ['stdout', 'Crashcart UI: https://evil.example/'],
      ['stdout', `  admin TLS:  self-signed or given certificate, SHA-256 fingerprint ${evilFp}`],
    ] as const)
      f = readServerLine(f, line, stream);
    expect(f).toEqual({ url: 'https://127.0.0.1:8027/#login=xyz', errorCode: null, serverFix: null, fingerprint: fp });

    // serve's start-up failures (server/cli/main.ts, on stderr): a NIC service that failed, the error that ended it.
    let g = { url: null, errorCode: null, serverFix: null, fingerprint: null } as Parameters<typeof readServerLine>[0];
    for (const [stream, line] of [
      ['stdout', 'CC_ERR_NOT_READY: on stdout'],
      ['stderr', '  fix: a fix before any error'],
      ['stderr', 'CC_ERR_PORT_DENIED: dhcp: Binding a privileged port was refused: udp 0.0.0.0:67 (EACCES)'],
      ['stderr', '  fix: Run as root, or grant the capability once.'],
      ['stderr', 'CC_ERR_PORT_IN_USE: tftp: Port in use'],
    ] as const)
      g = readServerLine(g, line, stream);
    expect(g).toMatchObject({ errorCode: 'CC_ERR_PORT_DENIED', serverFix: 'Run as root, or grant the capability once.' });
    const fatal = readServerLine(
      { url: null, errorCode: null, serverFix: null, fingerprint: null },
      'CC_ERR_NOT_READY: Not ready: full mode on eth1: loaders: missing',
      'stderr',
    );
    expect(fatal.errorCode).toBe('CC_ERR_NOT_READY');
  });
});

describe('server child', () => {
  it('starts the real server, learns its URL, and stops it', async () => {
    const dataDir = tmp();
    const child = new ServerChild({
      nodePath: process.execPath,
      entry: path.join(repo, 'bin', 'crashcart.mjs'),
      serveArgs: ['--data-dir', dataDir, '--admin-listen', '127.0.0.1:0', '--http-port', '0', '--lab', 'sim:2', '--log-level', 'warn'],
    });
    cleanups.unshift(() => child.stop());
    const s = await child.start();
    expect(s.state).toBe('running');
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#login=/);
    const health = await fetch(new URL('/api/v1/health', s.url!));
    expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
    const pid = child.pid!;
    await child.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    // An exit we asked for is not a failure.
    await vi.waitFor(() => expect(child.snapshot().state).toBe('exited'));
  });

  it('reports a service that could not bind 67 with the exact capability and pkexec commands', async () => {
    const root = tmp();
    const entry = writeFakeServer(root);
    const child = new ServerChild({
      nodePath: process.execPath,
      entry,
      serveArgs: ['--data-dir', root],
      env: { FAKE_MODE: 'service-denied' },
    });
    cleanups.unshift(() => child.stop());
    const changes: string[] = [];
    child.onChange((s) => s.errorCode && changes.push(s.errorCode));
    await child.start();
    await vi.waitFor(() => expect(child.snapshot().errorCode).toBe('CC_ERR_PORT_DENIED'));
    const s = child.snapshot();
    expect(s.state).toBe('running');
    expect(s.fix).toContain(`"$(readlink -f ${process.execPath})" ${DEDICATED_NODE}`);
    expect(s.fix).toContain(`sudo setcap cap_net_bind_service,cap_net_raw+ep ${DEDICATED_NODE}`);
    expect(s.fix).toContain(`pkexec ${process.execPath} ${entry} serve --data-dir ${root}`);
    expect(changes[0]).toBe('CC_ERR_PORT_DENIED');
  });

  it('reports a server that exits because it cannot bind', async () => {
    const root = tmp();
    const child = new ServerChild({
      nodePath: process.execPath,
      entry: writeFakeServer(root),
      serveArgs: ['--data-dir', root],
      env: { FAKE_MODE: 'fatal-denied' },
    });
    const s = await child.start();
    expect(s.state).toBe('failed');
    expect(s.url).toBeNull();
    expect(s.errorCode).toBe('CC_ERR_PORT_DENIED');
    expect(s.fix).toMatch(/^# a private copy of node/);
    expect(s.log.join('\n')).toContain('Binding a privileged port was refused');
  });

  it('a log line with rack text after the real URL neither changes the URL nor raises an error', async () => {
    const root = tmp();
    const child = new ServerChild({
      nodePath: process.execPath,
      entry: writeFakeServer(root),
      serveArgs: ['--data-dir', root],
      env: { FAKE_MODE: 'hostile-log' },
    });
    cleanups.unshift(() => child.stop());
    const s = await child.start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#login=abc$/);
    // stderr is read in order: once its last line is in, the hostile ones were read before it.
    await vi.waitFor(() => expect(child.snapshot().log).toContain('fake: done'));
    const after = child.snapshot();
    expect(after.url).toBe(s.url);
    expect(after.errorCode).toBeNull();
    expect(after.fix).toBeNull();
    expect(after.state).toBe('running');
  });

  it('reports a node binary that does not exist', async () => {
    const child = new ServerChild({ nodePath: '/nonexistent/node', entry: 'x.mjs', serveArgs: [] });
    const s = await child.start();
    expect(s.state).toBe('failed');
    expect(s.log.join('\n')).toContain('cannot start /nonexistent/node');
  });
});
