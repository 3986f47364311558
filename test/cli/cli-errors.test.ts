/**
 * What the CLI prints when a command fails and the error is not one it raised itself: a file the command line
 * named that cannot be read or written (the flag, the path, why, the fix; no stack trace), and an error answer
 * from a newer appliance whose code this CLI's catalog lacks (that appliance's code, message and fix). The real
 * binary against an in-process appliance and a stand-in "newer appliance", and the functions it calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { tmpDir } from '../support/appliance.ts';
import { cli } from './cli-kit.ts';
import { adminClient, errorFrom } from '../../server/cli/admin-client.ts';
import { cliErrorText, fileError } from '../../server/cli/cli-errors.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { ERRORS } from '../../server/errors/catalog.ts';

/** What a newer appliance answers: a code this build's catalog does not have, with its own message and fix. */
const NEWER = {
  statusCode: 409,
  code: 'CC_ERR_FROM_A_NEWER_APPLIANCE',
  error: 'Conflict',
  message: 'The rack is in maintenance mode',
  fix: 'End maintenance with `crashcart maintenance end`.',
};

let t: TestAppliance;
let newer: http.Server;
let newerUrl: string;
beforeAll(async () => {
  t = await startTestAppliance();
  newer = http.createServer((_req, res) => {
    res.writeHead(NEWER.statusCode, { 'content-type': 'application/json' });
    res.end(JSON.stringify(NEWER));
  });
  await new Promise<void>((r) => newer.listen(0, '127.0.0.1', r));
  newerUrl = `http://127.0.0.1:${(newer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => newer.close(r));
  await t.stop();
});

/** A stack trace line as V8 prints it. */
const STACK_LINE = /^\s+at /m;

// Each CLI run starts a Node process through tsx: seconds each on a loaded machine (not a timing assertion).
describe('the real binary', { timeout: 300_000 }, () => {
  it('nodes bmc set --password-file with a missing file: the flag, the path, ENOENT and the fix; exit 1, no stack', async () => {
    const missing = path.join(await tmpDir('cc-cli-err-'), 'no-such-password');
    const withDir = await cli([
      'nodes',
      'bmc',
      'set',
      '1',
      '--driver',
      'ipmi',
      '--address',
      '192.0.2.9',
      '--user',
      'admin',
      '--password-file',
      missing,
      '--data-dir',
      t.dataDir,
    ]);
    expect(withDir.status).toBe(1);
    expect(withDir.stderr).toContain(`CC_ERR_CLI_FILE: ${ERRORS.CC_ERR_CLI_FILE.message}: --password-file ${missing}: no such file`);
    expect(withDir.stderr).toContain('(ENOENT)');
    expect(withDir.stderr).toContain(`  fix: ${ERRORS.CC_ERR_CLI_FILE.fix}`);
    expect(withDir.stderr).not.toMatch(STACK_LINE);
    expect(withDir.stdout).toBe('');
  });

  it('export --output into a folder that does not exist, and onto a folder: the flag, the path, the reason', async () => {
    const dir = await tmpDir('cc-cli-out-');
    const noFolder = path.join(dir, 'missing', 'nodes.json');
    const a = await cli(['export', 'json', '--output', noFolder, '--data-dir', t.dataDir]);
    expect(a.status).toBe(1);
    expect(a.stderr).toContain(`CC_ERR_CLI_FILE: ${ERRORS.CC_ERR_CLI_FILE.message}: --output ${noFolder}: no such file or folder (ENOENT)`);
    expect(a.stderr).not.toMatch(STACK_LINE);
    const b = await cli(['export', 'json', '--output', dir, '--data-dir', t.dataDir]);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain(`--output ${dir}: it is a folder, not a file (EISDIR)`);
    expect(b.stderr).not.toMatch(STACK_LINE);
  });

  it("a newer appliance's error: its code, message and fix as sent, exit 1", async () => {
    const r = await cli(['nodes', 'list'], { CRASHCART_URL: newerUrl, CRASHCART_TOKEN: 'any-token' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${NEWER.code}: ${NEWER.message}\n  fix: ${NEWER.fix}\n`);
  });
});

describe('the functions the binary calls', () => {
  it('adminClient: an unknown code keeps the answer; a known code takes the appliance fix over the local one', async () => {
    const e = await adminClient(newerUrl, 'any-token', null)
      .call('GET', '/api/v1/nodes')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CcError);
    expect(e).toMatchObject({ code: NEWER.code, message: NEWER.message, fix: NEWER.fix, statusCode: 409 });
    const known = errorFrom(404, JSON.stringify({ code: 'CC_ERR_NOT_FOUND', message: 'Not found: node 9', fix: 'The newer fix.' }));
    expect(known.toCliText()).toBe('CC_ERR_NOT_FOUND: Not found: node 9\n  fix: The newer fix.');
    const bare = errorFrom(409, JSON.stringify({ code: 'CC_ERR_UNHEARD_OF' }));
    expect(bare.code).toBe('CC_ERR_UNHEARD_OF');
    expect(bare.fix).toContain('newer');
    expect(errorFrom(502, '<html>bad gateway</html>').code).toBe('CC_ERR_INTERNAL');
  });

  it('cliErrorText: a path error names the path, a bug says how to get the stack, CRASHCART_DEBUG=1 adds it', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: 'ENOENT', path: '/x/y' });
    expect(cliErrorText(enoent)).toBe(
      `CC_ERR_CLI_FILE: ${ERRORS.CC_ERR_CLI_FILE.message}: /x/y (a path on the command line): no such file or folder (ENOENT)\n  fix: ${ERRORS.CC_ERR_CLI_FILE.fix}`,
    );
    const eacces = fileError(Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/root/k' }), '--file', '/root/k');
    expect((eacces as CcError).message).toContain('--file /root/k: permission denied (EACCES)');
    const other = new Error('ECONNRESET');
    expect(fileError(Object.assign(other, { code: 'ECONNRESET' }), '--output', '/tmp/x')).toBe(other);
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(cliErrorText(bug)).toBe(
      "CC_ERR_INTERNAL: Internal error: Cannot read properties of undefined (reading 'id')\n  fix: this is a bug in crashcart: run again with CRASHCART_DEBUG=1 for the stack trace and report it.",
    );
    expect(cliErrorText(bug, true)).toMatch(STACK_LINE);
  });
});
