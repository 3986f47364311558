// The agent keeps the appliance it booted with (docs/agent.md "Trust"). Hostile appliances on loopback (real
// HTTP) push a server_url on another host and park the agent with Retry-After; a MITM proxy in front of the
// REAL core rewrites server_url, and the operator gets a node.config_refused event through the real core.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckinRequest } from '../../contract/protocol.ts';
import { AgentLoop, type AgentEvent } from '../../agent/loop/agent-loop.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import { createStderrLogger } from '../../agent/loop/logger.ts';
import { MAX_RETRY_AFTER_MS, retryAfterMs, sameAppliance } from '../../agent/loop/trust.ts';
import { loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { pxeBoot, startCore, until, type Core } from './core-harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A loopback HTTP server whose handler the test swaps; it records every request (method, path, body). */
async function listen(
  handle: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void,
): Promise<{ url: string; seen: { path: string; body: string }[]; close(): Promise<void> }> {
  const seen: { path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (seen.length < 10_000) seen.push({ path: req.url ?? '', body });
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('pure rules', () => {
  it('same appliance = same origin; another host, port or scheme, or garbage, is not', () => {
    expect(sameAppliance('http://10.0.0.1:8026', 'http://10.0.0.1:8026/')).toBe(true);
    expect(sameAppliance('http://10.0.0.1:8026', 'http://10.0.0.1:8026/other/path')).toBe(true);
    expect(sameAppliance('http://appliance:80', 'http://APPLIANCE/')).toBe(true);
    for (const other of [
      'http://10.0.0.66:8026',
      'http://10.0.0.1:8027',
      'https://10.0.0.1:8026',
      'http://10.0.0.1:8026@10.0.0.66/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
    ])
      expect(sameAppliance('http://10.0.0.1:8026', other), other).toBe(false);
  });

  it('Retry-After: seconds or an HTTP-date, capped; past, empty or garbage gives nothing', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('99999999999999999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
    for (const v of [undefined, '', '0', '-5', '1.5', 'soon', 'Tue, 31 Dec 2024 00:00:00 GMT'])
      expect(retryAfterMs(v, now), String(v)).toBeUndefined();
    expect(MAX_RETRY_AFTER_MS).toBe(300_000);
  });
});

describe('against a hostile appliance', () => {
  const config = { checkin_interval_s: 1, checkin_skew_s: 0, facts_exclude_pattern: '', server_url: '', log_level: 'info' };
  let mode: 'push-foreign' | 'push-other' | '429-day' | '503-date' = 'push-foreign';
  let trusted: Awaited<ReturnType<typeof listen>>;
  let attacker: Awaited<ReturnType<typeof listen>>;
  let other: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    attacker = await listen((_q, _b, res) => res.end('{}'));
    other = await listen((_q, _b, res) => res.end('{}'));
    trusted = await listen((req, _body, res) => {
      if (mode === '429-day' || mode === '503-date') {
        res.statusCode = mode === '429-day' ? 429 : 503;
        // A day: in seconds, or as an HTTP-date (RFC 9110 10.2.3 allows both).
        res.setHeader('retry-after', mode === '429-day' ? '86400' : new Date(Date.now() + 86_400_000).toUTCString());
        return res.end(JSON.stringify({ statusCode: res.statusCode, code: 'CC_ERR_X', error: 'x', message: 'come back tomorrow' }));
      }
      const c = { ...config, server_url: `${mode === 'push-foreign' ? attacker.url : other.url}/` };
      res.setHeader('content-type', 'application/json');
      res.end(
        req.url === '/api/v1/register'
          ? JSON.stringify({ node_id: 7, agent_token: 'agent-token-7', config: c })
          : JSON.stringify({ command: 'acknowledge', config: c }),
      );
    });
  });
  afterAll(async () => {
    await Promise.all([trusted?.close(), attacker?.close(), other?.close()]);
  });

  it('a pushed server_url on another host is refused, reported once per URL, and nothing reaches that host', async () => {
    const inv = (await loadProfiles())[0]!.inventory;
    const events: AgentEvent[] = [];
    const logLines: string[] = [];
    const loop = new AgentLoop({
      client: new ApplianceClient(trusted.url),
      token: 'enrol-token',
      inventory: async () => inv,
      hooks: { reboot() {}, poweroff() {} },
      log: createStderrLogger('info', (l) => void (logLines.length < 1000 && logLines.push(l))),
      startDelayMaxMs: 0,
      intervalOverrideMs: 10,
      skewOverrideMs: 0,
      backoffBaseMs: 10,
      backoffCapMs: 40,
      onEvent: (e) => void (events.length < 5000 && events.push(e)),
    });
    const done = loop.run();
    const checkins = (): CheckinRequest[] =>
      trusted.seen.filter((s) => s.path === '/api/v1/checkin').map((s) => JSON.parse(s.body) as CheckinRequest);
    await until('ten check-ins', () => checkins().length >= 10);
    mode = 'push-other';
    const at = checkins().length;
    await until('ten more check-ins', () => checkins().length >= at + 10);
    loop.stop();
    expect(await done).toBe('stopped');

    // Every call went to the appliance it booted with; the hosts it was pushed to never heard from it.
    expect(attacker.seen).toEqual([]);
    expect(other.seen).toEqual([]);
    expect(trusted.seen.length).toBeGreaterThanOrEqual(at + 10);
    // One report per refused URL, in the check-in after the refusal, carrying the count so far.
    const reports = checkins()
      .map((c) => c.config_refused)
      .filter((r) => r !== undefined);
    expect(reports.map((r) => r.server_url)).toEqual([`${attacker.url}/`, `${other.url}/`]);
    expect(reports[0]!.count).toBeGreaterThanOrEqual(1);
    expect(reports[1]!.count).toBeGreaterThan(reports[0]!.count);
    expect(loop.status().config_refusals).toBe(trusted.seen.length);
    expect(logLines.filter((l) => l.includes('refused a pushed server_url')).length).toBe(2);
  });

  it('Retry-After of a day (seconds, or an HTTP-date on a 503) waits at most the 5-minute cap', async () => {
    const inv = (await loadProfiles())[0]!.inventory;
    for (const m of ['429-day', '503-date'] as const) {
      mode = m;
      const events: AgentEvent[] = [];
      const loop = new AgentLoop({
        client: new ApplianceClient(trusted.url),
        token: 'enrol-token',
        inventory: async () => inv,
        hooks: { reboot() {}, poweroff() {} },
        log: createStderrLogger('error', () => {}),
        startDelayMaxMs: 0,
        backoffBaseMs: 10,
        backoffCapMs: 40,
        onEvent: (e) => {
          if (events.length < 5000) events.push(e);
          if (e.type === 'schedule' && e.reason === 'backoff') loop.stop();
        },
      });
      expect(await loop.run()).toBe('stopped');
      const wait = events.find((e) => e.type === 'schedule' && e.reason === 'backoff');
      // The server asked for 86,400,000 ms; the agent comes back after the cap instead.
      expect(wait, m).toMatchObject({ delay_ms: MAX_RETRY_AFTER_MS });
    }
  });
});

describe('a MITM in front of the real core rewrites server_url', () => {
  let core: Core;
  let mitm: Awaited<ReturnType<typeof listen>>;
  let attacker: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    core = await startCore();
    attacker = await listen((_q, _b, res) => res.end('{}'));
    // Forwards every request to the core and points the answer's config at the attacker.
    mitm = await listen((req, body, res) => {
      const up = http.request(
        `${core.baseUrl}${req.url}`,
        { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            let text = Buffer.concat(chunks).toString();
            try {
              const j = JSON.parse(text) as { config?: { server_url?: string } };
              if (j.config) j.config.server_url = `${attacker.url}/api`;
              text = JSON.stringify(j);
            } catch {
              // not JSON: pass through
            }
            res.writeHead(r.statusCode ?? 502, { 'content-type': r.headers['content-type'] ?? 'text/plain' });
            res.end(text);
          });
        },
      );
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([mitm?.close(), attacker?.close()]);
    await core?.dispose();
  });

  it('the agent stays on its URL and the core records node.config_refused for that node', async () => {
    const p = (await loadProfiles())[1]!;
    const { inventory, id } = personalize(p, 7, 1);
    const d = await pxeBoot(mitm.url, {
      mac: id.mac,
      uuid: id.uuid,
      serial: id.serial,
      manufacturer: 'M',
      product: 'P',
      buildarch: 'x86_64',
      platform: 'efi',
    });
    if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);
    let checkins = 0;
    const loop = new AgentLoop({
      client: new ApplianceClient(mitm.url),
      token: d.token,
      nodeId: d.nodeId,
      inventory: async () => inventory,
      hooks: { reboot() {}, poweroff() {} },
      log: createStderrLogger('error', () => {}),
      startDelayMaxMs: 0,
      intervalOverrideMs: 50,
      skewOverrideMs: 0,
      onEvent: (e) => void (e.type === 'checkin' && checkins++),
    });
    const done = loop.run();
    const ev = await until('a node.config_refused event', async () => {
      const r = await core.admin('GET', `/api/v1/events?type=node.config_refused&node_id=${d.nodeId}`);
      return (r.json as { events: { data: Record<string, unknown>; message: string }[] }).events[0];
    });
    await until('three more check-ins', () => checkins >= 4);
    loop.stop();
    await done;
    expect(ev.data).toEqual({ server_url: `${attacker.url}/api`, count: expect.any(Number) as number });
    expect(ev.message).toContain('refused');
    expect(attacker.seen).toEqual([]);
    // Reported once: the same URL pushed on every later answer makes no new event.
    const all = await core.admin('GET', `/api/v1/events?type=node.config_refused&node_id=${d.nodeId}`);
    expect((all.json as { events: unknown[] }).events).toHaveLength(1);
  }, 60_000);
});

describe('a pushed exclusion pattern cannot hang the agent', () => {
  it('with the linear-time engine the microkernel enables, ^(a+)+$ on a long name returns; backreferences are refused', () => {
    // Run where the microkernel runs the agent: node with --enable-experimental-regexp-engine (supervise-agent).
    const script = [
      `const { compileExclude, excludeFacts, LINEAR_REGEXP } = await import(${JSON.stringify(path.join(ROOT, 'agent/facts/flat-facts.ts'))});`,
      `const { re } = compileExclude('^(a+)+$');`,
      `const facts = excludeFacts({ ['a'.repeat(64) + '!']: 1, aaaa: 2 }, re);`,
      `const bad = compileExclude('(a)\\\\1');`,
      `process.stdout.write(JSON.stringify({ LINEAR_REGEXP, facts, flags: re.flags, bad: bad.re === null, error: bad.error }));`,
    ].join('\n');
    const out = execFileSync(
      process.execPath,
      ['--enable-experimental-regexp-engine', '--input-type=module', '--import', 'tsx/esm', '-e', script],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    const r = JSON.parse(out) as { LINEAR_REGEXP: boolean; facts: Record<string, number>; flags: string; bad: boolean; error: string };
    expect(r).toMatchObject({ LINEAR_REGEXP: true, flags: 'l', bad: true });
    expect(r.facts).toEqual({ ['a'.repeat(64) + '!']: 1 });
    expect(r.error).toMatch(/linear/);
    expect(readFileSync(path.join(ROOT, 'build/microkernel/rootfs/supervise-agent'), 'utf8')).toMatch(
      /node --enable-experimental-regexp-engine /,
    );
  });
});
