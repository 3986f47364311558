// `crashcart-agent` as a user runs it: real process, this machine's real tools, the real core.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { factsHash } from '../../contract/facts-hash.ts';
import { killAfter } from '../support/kill-timer.ts';
import { pxeBoot, startCore, type Core } from './core-harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-agent-cli-'));
let core: Core | undefined;
afterAll(async () => {
  await core?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

function agent(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/crashcart-agent.mjs', ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const archOf: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

describe('crashcart-agent on this machine', () => {
  it('--once --print prints sane facts: CPU count, memory, MACs of the real NICs, a matching hash', async () => {
    const r = await agent(['--once', '--print']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const f = out.facts;
    expect(f.processorcount).toBe(os.cpus().length);
    expect(f.hardwaremodel).toBe(archOf[process.arch] ?? f.hardwaremodel);
    const totalMb = os.totalmem() / 1048576;
    expect(f.memorysize_mb).toBeGreaterThanOrEqual(Math.floor(totalMb * 0.95));
    expect(f.memorysize_mb).toBeLessThanOrEqual(totalMb * 2);
    const nics = String(f.interfaces).split(',').filter(Boolean);
    expect(nics.length).toBeGreaterThan(0);
    const osNics = os.networkInterfaces();
    for (const n of nics) {
      const mine = osNics[n]?.[0]?.mac;
      if (mine) expect(f[`macaddress_${n}`]).toBe(mine);
    }
    expect(nics.some((n) => osNics[n] !== undefined)).toBe(true);
    expect(out.facts_hash).toBe(factsHash(f));
    expect(Array.isArray(out.inventory.collector_errors)).toBe(true);
  });

  it('collect DIR then --print --from DIR gives the same machine', async () => {
    const dir = path.join(tmp, 'me');
    const c = await agent(['collect', dir]);
    expect(c.code, c.stderr).toBe(0);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['lscpu.json', 'lsblk.json', 'ip-addr.json', 'cpuinfo', 'meminfo']));
    const [live, replay] = await Promise.all([agent(['--once', '--print']), agent(['--once', '--print', '--from', dir])]);
    const a = JSON.parse(live.stdout).facts;
    const b = JSON.parse(replay.stdout).facts;
    for (const k of ['processorcount', 'memorysize_mb', 'interfaces', 'macaddress', 'blockdevices', 'serialnumber', 'uuid', 'architecture'])
      expect(b[k], k).toEqual(a[k]);
    // The failures seen at collection time travel with the folder.
    const names = (o: string) =>
      JSON.parse(o)
        .inventory.collector_errors.map((e: { collector: string }) => e.collector)
        .sort();
    expect(names(replay.stdout)).toEqual(names(live.stdout));
  });

  it('bad input: unknown flag, unreadable replay folder, bad exclude pattern -- each says the fix, none crashes', async () => {
    // Four independent runs at once: each starts a fresh Node, which takes seconds on a loaded machine.
    const [bad, missing, badRe, help] = await Promise.all([
      agent(['--frobnicate']),
      agent(['--once', '--print', '--from', path.join(tmp, 'nope')]),
      agent(['--once', '--print', '--exclude', '([']),
      agent(['--help']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/fix: see `crashcart-agent --help`/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Fix: pass --from/);
    expect(badRe.code).toBe(2);
    expect(badRe.stderr).toMatch(/not a valid regular expression/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/collect DIR/);
  }, 180_000);

  it('--wait-for FILE: looks for the appliance only once FILE exists (the microkernel starts it before DHCP)', async () => {
    const marker = path.join(tmp, 'network-ready');
    // No token: once it has found the appliance the agent stops at once ("no enrolment token"), no retries.
    const args = ['--once', '--wait-for', marker, '--url', 'http://127.0.0.1:9'];
    const child = spawn(
      process.execPath,
      ['bin/crashcart-agent.mjs', ...args, '--from', path.join(ROOT, 'resources/lab-profiles/supermicro-6018r')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    killAfter(child, 60_000); // a hung agent fails the exit check below, well within this test's 120 s
    let stderr = '';
    // The marker is created only once the agent said it waits: what it logs after that shows it waited for the file.
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/agent started, waiting for the network/.test(stderr) && !existsSync(marker)) writeFileSync(marker, '');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    const at = (re: RegExp) => stderr.search(re);
    expect(at(/agent started, waiting for the network/)).toBeGreaterThanOrEqual(0);
    expect(at(/"network ready"/)).toBeGreaterThan(at(/agent started, waiting for the network/));
    expect(at(/appliance found via flags/)).toBeGreaterThan(at(/"network ready"/));
    expect(stderr).toMatch(/no enrolment token/);
  }, 120_000);

  it('--once against the real core: registers with the token from /boot and checks in', async () => {
    core = await startCore();
    const d = await pxeBoot(core.baseUrl, {
      mac: '0c:c4:7a:00:00:01',
      uuid: '',
      serial: '',
      manufacturer: '',
      product: '',
      buildarch: 'x86_64',
      platform: 'efi',
    });
    expect(d.kind).toBe('microkernel');
    if (d.kind !== 'microkernel') return;
    const r = await agent([
      '--once',
      '--url',
      core.baseUrl,
      '--token',
      d.token,
      '--node',
      String(d.nodeId),
      '--from',
      path.join(ROOT, 'resources/lab-profiles/supermicro-6018r'),
      '--log-level',
      'warn',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const nodes = (await core.admin('GET', '/api/v1/nodes')).json.nodes as { serial: string; state: string; macs: string[] }[];
    const n = nodes.find((x) => x.serial === 'A177950X7709591');
    expect(n?.state).toBe('registered');
    expect(n?.macs).toEqual(expect.arrayContaining(['0c:c4:7a:00:00:01', '52:54:00:e2:28:a3']));
    // Tokens are base64url: one that starts with '-' is still a token, not an option.
    const dash = await agent(['--token', '-starts-with-a-dash', '--help']);
    expect(dash.code, dash.stderr).toBe(0);
    const down = await agent([
      '--once',
      '--url',
      'http://127.0.0.1:9',
      '--token',
      'whatever-token',
      '--from',
      path.join(ROOT, 'resources/lab-profiles/supermicro-6018r'),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/no check-in after 4 attempts[\s\S]*fix:/);
  }, 180_000);
});
