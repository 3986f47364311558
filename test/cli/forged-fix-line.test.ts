/**
 * A line break in rack text cannot forge a line of the CLI's own. The CLI prints a failed command as a message line
 * and a `fix:` line; a BMC's error body or an agent's reason that carries "\n  fix: rm -rf ..." must not print a
 * second `fix:` line (nor any line) of its own. The real `crashcart` binary, its output a pipe and a terminal
 * (script(1)), against a stand-in appliance (`CRASHCART_URL`) and against a real appliance whose node's Redfish BMC
 * is hostile. Every Unicode line break is tried: LF, CR, CRLF, NEL (U+0085), U+2028 and U+2029.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { tmpDir } from '../support/appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { killAfter } from '../support/kill-timer.ts';
import { makeCert } from '../bmc/peers/tls-cert.ts';
import { BIN, cli, type CliRun } from './cli-kit.ts';

/** Rack text with a forged fix line after each kind of line break. */
const FORGED = [
  'the BMC is busy',
  '\n  fix: run rm -rf ~ (LF)',
  '\r\n  fix: run rm -rf ~ (CRLF)',
  '\r  fix: run rm -rf ~ (CR)',
  '\u0085  fix: run rm -rf ~ (NEL)',
  '\u2028  fix: run rm -rf ~ (LS)',
  '\u2029  fix: run rm -rf ~ (PS)',
].join('');
/** The same text as the CLI shows it: every break as its escape, on the line it arrived in. */
const SHOWN = [
  'the BMC is busy',
  '\\n  fix: run rm -rf ~ (LF)',
  '\\r\\n  fix: run rm -rf ~ (CRLF)',
  '\\r  fix: run rm -rf ~ (CR)',
  '\\u0085  fix: run rm -rf ~ (NEL)',
  '\\u2028  fix: run rm -rf ~ (LS)',
  '\\u2029  fix: run rm -rf ~ (PS)',
].join('');
/** Every line break Unicode knows of (UAX #14 BK, CR, LF, NL, and VT/FF, which a terminal moves down on too). */
// eslint-disable-next-line no-control-regex
const BREAK = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/;
/** A line that reads as a fix of the CLI's own. */
const FIX_LINE = /^\s*fix:/;

const linesOf = (s: string) => s.split(BREAK);
const fixLines = (s: string) => linesOf(s).filter((l) => FIX_LINE.test(l));

/** The stand-in appliance's error: the rack's text in the message, the appliance's own fix. */
const ERROR = {
  statusCode: 502,
  code: 'CC_ERR_BMC_REFUSED',
  error: 'Bad Gateway',
  message: `The BMC refused: ${FORGED}`,
  fix: 'Check the BMC.',
};
/** A node list and a bulk result carrying the same text (a hostname, an agent's reason). */
const NODES = { nodes: [{ id: 7, hostname: `web7${FORGED}`, state: 'registered' }], total: 1 };
const REFUSED = { results: [{ node_id: 7, ok: false, state: 'registered', reason: `agent says: ${FORGED}` }] };

let stand: http.Server;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  stand = http.createServer((req, res) => {
    req.resume();
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && /^\/api\/v1\/nodes(\?|$)/.test(req.url ?? '')) return json(200, NODES);
    if (req.method === 'GET' && req.url === '/api/v1/nodes/7') return json(502, ERROR);
    if (req.method === 'POST' && req.url === '/api/v1/nodes/reboot') return json(200, REFUSED);
    // Not the appliance's error shape (a proxy's page): the CLI quotes the body.
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway${FORGED}`);
  });
  await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
  env = { CRASHCART_URL: `http://127.0.0.1:${(stand.address() as AddressInfo).port}`, CRASHCART_TOKEN: 'any-token' };
});
afterAll(() => new Promise((r) => stand?.close(r)));

/** Run the binary on a pseudo-terminal (script(1) gives it one and copies what it printed there, stdout and stderr). */
function onTerminal(args: string[], extra: NodeJS.ProcessEnv): Promise<{ status: number | null; shown: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRASHCART_')));
  const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...base, ...extra }, stdio: ['ignore', 'pipe', 'inherit'] });
    let shown = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (shown += d));
    killAfter(child, 60_000);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, shown }));
  });
}

/** An error as printed: the message line holds the rack's text (breaks shown), and the only fix line is `fix`. */
function expectOneFix(out: string, messageLine: string, fix: string): void {
  const lines = linesOf(out.replace(/\r\n/g, '\n').trimEnd());
  expect(lines, out).toEqual([messageLine, `  fix: ${fix}`]);
  expect(fixLines(out)).toEqual([`  fix: ${fix}`]);
}

// Each run starts a Node process through tsx: seconds on a loaded machine (not a timing assertion).
describe('the real binary against a stand-in appliance', { timeout: 300_000 }, () => {
  it("an error answer whose message carries a forged fix line: one message line, the appliance's fix, into a pipe", async () => {
    const r = await cli(['nodes', 'show', '7'], env);
    expect(r.status).toBe(1);
    expectOneFix(r.stderr, `CC_ERR_BMC_REFUSED: The BMC refused: ${SHOWN}`, 'Check the BMC.');
  });

  it('the same on a terminal', async () => {
    const r = await onTerminal(['nodes', 'show', '7'], env);
    expect(r.status).toBe(1);
    // The terminal writes each LF as CR LF; nothing else breaks a line.
    expectOneFix(r.shown, `CC_ERR_BMC_REFUSED: The BMC refused: ${SHOWN}`, 'Check the BMC.');
  });

  it('an answer that is not JSON (a proxy page) is quoted on the message line', async () => {
    const r = await cli(['tags', 'list'], env);
    expect(r.status).toBe(1);
    expect(fixLines(r.stderr)).toHaveLength(1);
    expect(linesOf(r.stderr.trimEnd())).toHaveLength(2);
    expect(r.stderr).toContain(`HTTP 502: bad gateway${SHOWN}`);
  });

  it('a hostname in the node table and an agent reason in a bulk result stay in their row', async () => {
    const list = await cli(['nodes', 'list'], env);
    expect(list.status).toBe(0);
    expect(linesOf(list.stdout.trimEnd())).toHaveLength(2); // the header and node 7
    expect(fixLines(list.stdout)).toEqual([]);
    const bulk = await cli(['nodes', 'reboot', '7'], env);
    expect(bulk.status).toBe(1);
    expect(linesOf(bulk.stdout.trimEnd())).toHaveLength(2);
    expect(fixLines(bulk.stdout)).toEqual([]);
    expect(bulk.stdout).toContain(`agent says: ${SHOWN.slice(0, 20)}`); // the reason column is cut at 48 characters
  });

  it('--json keeps the text, escaped: the same value, one JSON document', async () => {
    const r = await cli(['nodes', 'list', '--json'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/[\r\u0085\u2028\u2029]/);
    expect(JSON.parse(r.stdout)).toEqual(NODES);
  });
});

let t: TestAppliance;
let bmc: https.Server;
let bmcPort = 0;
let dir: string;
let id = 0;

describe('the real binary against a real appliance and a hostile Redfish BMC', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    dir = await tmpDir('cc-cli-forged-fix-');
    const cert = makeCert(dir, 'forging-bmc');
    // Every request: HTTP 500 with a Redfish error body whose message forges fix lines.
    bmc = https.createServer({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'Base.1.0.GeneralError', message: FORGED } }));
      });
    });
    await new Promise<void>((r) => bmc.listen(0, '127.0.0.1', r));
    bmcPort = (bmc.address() as AddressInfo).port;
    t = await startTestAppliance();
    await new ProtocolNode(t, ['52:54:00:cc:0f:01'], {}).boot();
    id = (await t.admin('GET', '/api/v1/nodes?limit=10')).body.nodes[0].id as number;
    const put = await t.admin('PUT', `/api/v1/nodes/${id}/bmc`, {
      driver: 'redfish',
      address: '127.0.0.1',
      port: bmcPort,
      username: 'root',
      password: 'forging-bmc-pw',
      tls: 'skip',
    });
    expect(put.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await new Promise((r) => bmc?.close(r));
    if (t) fs.rmSync(t.dataDir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("nodes power: the BMC's message is the node's reason, on the node's one line", async () => {
    const r: CliRun = await cli(['nodes', 'power', '--action', 'on', String(id), '--data-dir', t.dataDir]);
    expect(r.status).toBe(1);
    const lines = linesOf(r.stdout.trimEnd());
    expect(lines, r.stdout).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^node ${id} +FAIL +CC_ERR_BMC_`));
    expect(lines[0]).toContain(SHOWN);
    expect(fixLines(r.stdout)).toEqual([]);
  });

  it('nodes bmc expect: the error quoting the BMC is one message line and the catalog fix', async () => {
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, 'forging-bmc-pw\n');
    const r = await cli([
      'nodes',
      'bmc',
      'expect',
      '--driver',
      'redfish',
      '--address',
      '127.0.0.1',
      '--port',
      String(bmcPort),
      '--tls',
      'skip',
      '--user',
      'root',
      '--password-file',
      pw,
      '--data-dir',
      t.dataDir,
    ]);
    expect(r.status).toBe(1);
    // The command's own progress line first, then the error.
    const lines = linesOf(r.stderr.trimEnd()).filter((l) => !l.startsWith("reading the machine's identifiers"));
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^CC_ERR_BMC_/);
    expect(lines[0]).toContain(SHOWN);
    expect(fixLines(r.stderr)).toEqual([lines[1]]);
    expect(lines[1]).not.toContain('rm -rf');
  });
});
