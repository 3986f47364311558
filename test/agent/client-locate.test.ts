// Finding the appliance, back-off arithmetic, and a client that survives malformed answers
// (a small loopback server plays a broken appliance: the real core never sends these).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashcartArgs, leaseServer, locate, parseCmdline } from '../../agent/locate.ts';
import { backoffCeiling, backoffDelay } from '../../agent/loop/backoff.ts';
import { ApplianceClient, ApplianceError, MAX_RESPONSE_BYTES } from '../../agent/loop/client.ts';
import { AgentLoop, type AgentEvent } from '../../agent/loop/agent-loop.ts';
import { silentLogger } from '../../agent/loop/logger.ts';
import { loadProfiles } from '../../server/lab/hardware.ts';
import { until } from './core-harness.ts';

describe('locate', () => {
  const cmdline =
    'BOOT_IMAGE=/vmlinuz crashcart.url=http://10.0.0.1:8026 crashcart.node=17 crashcart.token=abcDEF123_- quiet console="ttyS0,115200n8"';

  it('kernel command line', () => {
    expect(parseCmdline(cmdline).get('console')).toBe('ttyS0,115200n8');
    expect(crashcartArgs(cmdline)).toEqual({ url: 'http://10.0.0.1:8026', nodeId: 17, token: 'abcDEF123_-' });
    expect(crashcartArgs('crashcart.url=ftp://x crashcart.node=-3')).toEqual({ url: undefined, nodeId: undefined, token: undefined });
  });

  it('DHCP leases: dhclient, networkd and udhcpc dumps; next-server wins over the server identifier', () => {
    expect(leaseServer('lease {\n  interface "eth0";\n  fixed-address 10.0.0.50;\n  option dhcp-server-identifier 10.0.0.1;\n}\n')).toBe(
      '10.0.0.1',
    );
    expect(leaseServer('ADDRESS=10.0.0.50\nSERVER_ADDRESS=10.0.0.1\nNEXT_SERVER=10.0.0.9\n')).toBe('10.0.0.9');
    expect(leaseServer("siaddr='0.0.0.0'\nserverid='192.168.1.1'\n")).toBe('192.168.1.1');
    expect(leaseServer('garbage\n=\n')).toBeUndefined();
  });

  it('precedence: cmdline > flags > env > lease > DNS, and says which won', async () => {
    const files: Record<string, string> = { '/proc/cmdline': cmdline, '/lease': 'SERVER_ADDRESS=10.9.9.9\n' };
    const read = async (p: string) => {
      const t = files[p];
      if (t === undefined) throw new Error('ENOENT');
      return t;
    };
    const base = { readText: read, leaseFiles: ['/lease'], resolve: async () => '10.7.7.7', env: {} };
    expect(await locate({ ...base, flags: { url: 'http://1.2.3.4:1' } })).toMatchObject({
      source: 'cmdline',
      url: 'http://10.0.0.1:8026',
      nodeId: 17,
    });
    delete files['/proc/cmdline'];
    expect(await locate({ ...base, flags: { url: 'http://1.2.3.4:1', token: 'tok12345' } })).toEqual({
      source: 'flags',
      url: 'http://1.2.3.4:1',
      token: 'tok12345',
      nodeId: undefined,
    });
    expect(await locate({ ...base, env: { CRASHCART_URL: 'http://5.6.7.8:9' } })).toMatchObject({ source: 'env', url: 'http://5.6.7.8:9' });
    expect(await locate({ ...base, port: 8026 })).toMatchObject({ source: 'dhcp-lease', url: 'http://10.9.9.9:8026' });
    delete files['/lease'];
    expect(await locate(base)).toMatchObject({ source: 'dns', url: 'http://10.7.7.7:8026' });
    expect(await locate({ ...base, resolve: async () => Promise.reject(new Error('NXDOMAIN')) })).toBeNull();
  });
});

describe('back-off', () => {
  it('doubles up to the cap and stays within [ceiling/2, ceiling]', () => {
    expect([1, 2, 3, 4, 10, 100].map((a) => backoffCeiling(a, 1000, 300_000))).toEqual([1000, 2000, 4000, 8000, 300_000, 300_000]);
    expect(backoffDelay(3, 1000, 300_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 1000, 300_000, () => 0.999999)).toBe(4000);
  });
});

describe('client against a misbehaving appliance', () => {
  let server: http.Server;
  let base: string;
  let mode = 'ok';

  const config = { checkin_interval_s: 1, checkin_skew_s: 0, facts_exclude_pattern: '', server_url: '', log_level: 'info' };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (mode === 'garbage') return res.end('<html>proxy error</html>');
        if (mode === 'wrong-shape') return res.end(JSON.stringify({ command: 'selfdestruct', config }));
        if (mode === 'huge') return res.end('x'.repeat(MAX_RESPONSE_BYTES + 10));
        if (mode === '429') {
          res.statusCode = 429;
          res.setHeader('retry-after', '2');
          return res.end(
            JSON.stringify({
              statusCode: 429,
              code: 'CC_ERR_RATE_LIMITED',
              error: 'Too Many Requests',
              message: 'slow down',
              fix: 'Back off and retry',
            }),
          );
        }
        if (mode === 'hang') return; // never answers
        res.setHeader('content-type', 'application/json');
        res.end(
          req.url === '/api/v1/register'
            ? JSON.stringify({ node_id: 1, agent_token: 'agent-token-1', config })
            : JSON.stringify({ command: 'acknowledge', config }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const req = { node_id: 1, agent_token: 'agent-token-1', state: 'idle', facts_hash: 'x', first_checkin: false };
  it('non-JSON, wrong shape, oversize, 429 and a hung server each become a typed error', async () => {
    const c = new ApplianceClient(base, { timeoutMs: 300 });
    for (const [m, kind] of [
      ['garbage', 'protocol'],
      ['wrong-shape', 'protocol'],
      ['huge', 'protocol'],
      ['429', 'rate-limited'],
      ['hang', 'unreachable'],
    ] as const) {
      mode = m;
      const e = await c.checkin(req).catch((x: unknown) => x);
      expect(e, m).toBeInstanceOf(ApplianceError);
      expect((e as ApplianceError).kind, m).toBe(kind);
    }
    mode = '429';
    const e = (await c.checkin(req).catch((x: unknown) => x)) as ApplianceError;
    expect(e).toMatchObject({ status: 429, code: 'CC_ERR_RATE_LIMITED', retryAfterMs: 2000, fix: 'Back off and retry' });
    const bad = await new ApplianceClient('not a url').checkin(req).catch((x: unknown) => x);
    expect((bad as ApplianceError).message).toMatch(/fix: pass --url/);
  });

  it('the loop rides out garbage answers and honours Retry-After, then recovers', async () => {
    mode = 'garbage';
    const events: AgentEvent[] = [];
    const inv = (await loadProfiles())[0]!.inventory;
    const loop = new AgentLoop({
      client: new ApplianceClient(base, { timeoutMs: 500 }),
      token: 'enrol-token',
      inventory: async () => inv,
      hooks: { reboot() {}, poweroff() {} },
      log: silentLogger,
      startDelayMaxMs: 0,
      intervalOverrideMs: 20,
      skewOverrideMs: 0,
      backoffBaseMs: 10,
      backoffCapMs: 40,
      onEvent: (e) => void (events.length < 2000 && events.push(e)),
    });
    const done = loop.run();
    await until('two errors', () => events.filter((e) => e.type === 'error').length >= 2);
    mode = '429';
    const at = events.length;
    await until('a rate-limited wait', () =>
      events.slice(at).find((e) => e.type === 'schedule' && e.reason === 'backoff' && e.delay_ms >= 2000),
    );
    mode = 'ok';
    await until('check-ins', () => events.some((e) => e.type === 'checkin'), 10_000);
    expect(loop.status().state).toBe('running');
    loop.stop();
    expect(await done).toBe('stopped');
  });
});
