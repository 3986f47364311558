// The virtual rack: real agent code in-process, the real core over HTTP (child process on loopback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSpreadMs, createLabPlugin, seededRandom } from '../../server/lab/lab-plugin.ts';
import { classifyBootScript, expandIpxe, chainUrl, rebase } from '../../server/lab/ipxe-sim.ts';
import { startCore, until, type Core } from '../agent/core-harness.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';

let core: Core;
const logged: string[] = [];
const log = {
  debug() {},
  info() {},
  warn: (_o: unknown, m?: string) => void logged.push(`warn ${m}`),
  error: (_o: unknown, m?: string) => void logged.push(`error ${m}`),
};

beforeAll(async () => {
  core = await startCore();
  await core.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 1, checkin_skew_s: 1 });
});
afterAll(async () => {
  await core?.dispose();
});

describe('iPXE simulation (pure)', () => {
  it('expands settings like iPXE and finds the chain URL', () => {
    const s =
      '#!ipxe\n:chain\nchain --replace --autofree http://10.0.0.1:8026/boot?mac=${netX/mac}&serial=${serial:uristring}&product=${product:uristring}&arch=${buildarch} && goto error ||\n';
    const url = chainUrl(s)!;
    const vars = {
      mac: 'aa:bb:cc:00:00:01',
      uuid: 'u',
      serial: 'S N/1',
      manufacturer: 'Dell Inc.',
      product: 'PowerEdge R630',
      buildarch: 'x86_64',
      platform: 'efi',
    };
    expect(expandIpxe(url, vars)).toBe(
      'http://10.0.0.1:8026/boot?mac=aa:bb:cc:00:00:01&serial=S%20N%2F1&product=PowerEdge%20R630&arch=x86_64',
    );
    expect(expandIpxe('BOOTIF=01-${netX/mac:hexhyp}', vars)).toBe('BOOTIF=01-aa-bb-cc-00-00-01');
    expect(rebase('http://10.0.0.1:8026/api/v1/nodes/3/stage?token=t', 'http://127.0.0.1:5555')).toBe(
      'http://127.0.0.1:5555/api/v1/nodes/3/stage?token=t',
    );
  });
  it('classifies microkernel, task, local-disk and garbage scripts', () => {
    expect(
      classifyBootScript('#!ipxe\n#crashcart-args crashcart.url=http://h:1 crashcart.node=4 crashcart.token=tok123456\nsleep 60\n'),
    ).toEqual({ kind: 'microkernel', url: 'http://h:1', nodeId: 4, token: 'tok123456' });
    expect(
      classifyBootScript('#!ipxe\n# crashcart: stage_url=http://h:1/api/v1/nodes/4/stage?token=x\nsanboot --drive 0x80 || exit\n'),
    ).toEqual({ kind: 'task', stageUrl: 'http://h:1/api/v1/nodes/4/stage?token=x' });
    expect(classifyBootScript('#!ipxe\niseq ${platform} efi && exit ||\nsanboot --no-describe --drive 0x80 || exit\n')).toEqual({
      kind: 'local',
    });
    expect(classifyBootScript('<html>').kind).toBe('unknown');
    expect(classifyBootScript('#!ipxe\necho hi\n').kind).toBe('unknown');
  });
  it('first boots of a big rack spread over seconds, deterministically per seed', () => {
    expect(bootSpreadMs(1)).toBe(1000);
    expect(bootSpreadMs(500)).toBe(5000);
    expect(bootSpreadMs(100_000)).toBe(10_000);
    const r = seededRandom(3);
    const offsets = Array.from({ length: 500 }, () => Math.round(r() * bootSpreadMs(500)));
    const perSecond = new Map<number, number>();
    for (const o of offsets) perSecond.set(Math.floor(o / 1000), (perSecond.get(Math.floor(o / 1000)) ?? 0) + 1);
    expect(perSecond.size).toBe(5);
    expect(Math.max(...perSecond.values())).toBeLessThan(150);
    const again = seededRandom(3);
    expect(Array.from({ length: 500 }, () => Math.round(again() * bootSpreadMs(500)))).toEqual(offsets);
  });
});

describe('virtual rack against the real core', () => {
  it('sim:9 boots, registers distinct machines, and a bound pair goes bound -> installing -> installed', async () => {
    const lab = createLabPlugin({
      baseUrl: core.baseUrl,
      count: 9,
      log,
      seed: 11,
      timing: { agentStartDelayMaxMs: 200, rebootMs: 100, stageDelayMs: 150, intervalOverrideMs: 300 },
    });
    expect(lab.name).toBe('lab');
    await lab.start();
    try {
      await until('all 9 registered', () => lab.nodes().every((n) => n.state === 'registered'), 45_000, 200);
      // The bench's load generator: valid check-in bodies the core acknowledges.
      const reqs = lab.checkinRequests();
      expect(reqs).toHaveLength(9);
      const ack = await new ApplianceClient(core.baseUrl).checkin(reqs[0]!);
      expect(ack.command).toBe('acknowledge');
      const mine = lab.nodes();
      expect(new Set(mine.map((n) => n.mac)).size).toBe(9);
      expect(new Set(mine.map((n) => n.serial)).size).toBe(9);
      const list = (await core.admin('GET', '/api/v1/nodes')).json.nodes as {
        id: number;
        serial: string;
        boot_mac: string;
        state: string;
        manufacturer: string;
        summary: { nic_count: number; disk_count: number };
      }[];
      expect(list).toHaveLength(9);
      for (const n of mine) {
        const c = list.find((x) => x.serial === n.serial);
        expect(c, n.serial).toBeDefined();
        expect(c!.boot_mac).toBe(n.mac);
        expect(c!.state).toBe('registered');
      }
      expect(new Set(list.map((n) => n.manufacturer)).size).toBeGreaterThanOrEqual(8);
      expect(new Set(list.map((n) => n.summary.nic_count)).size).toBeGreaterThanOrEqual(3);

      // A tag nothing matches, so the policy binds only the nodes we bind by hand.
      const tag = await core.admin('POST', '/api/v1/tags', { name: 'lab-never', rule: ['=', ['fact', 'manufacturer'], 'nobody'] });
      expect([200, 201], JSON.stringify(tag.json)).toContain(tag.status);
      const pol = await core.admin('POST', '/api/v1/policies', {
        name: 'lab-local',
        task: 'local-disk',
        tags: ['lab-never'],
        enabled: true,
      });
      expect([200, 201], JSON.stringify(pol.json)).toContain(pol.status);
      const pair = list.slice(0, 2);
      const bind = await core.admin('POST', '/api/v1/nodes/bind', { node_ids: pair.map((n) => n.id), policy: 'lab-local' });
      expect(bind.json.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
      await until(
        'pair installed (lab view)',
        () => pair.every((p) => lab.nodes().find((n) => n.serial === p.serial)?.state === 'installed'),
        30_000,
        100,
      );
      for (const p of pair) {
        const n = (await core.admin('GET', `/api/v1/nodes/${p.id}`)).json;
        expect(n.state).toBe('installed');
        const ev = (await core.admin('GET', `/api/v1/nodes/${p.id}/events`)).json.events as {
          type: string;
          data: { from?: string; to?: string };
        }[];
        expect(ev.map((e) => e.type)).toEqual(expect.arrayContaining(['node.registered', 'node.bound', 'node.reboot_sent', 'node.stage']));
        // The UI's story: bound -> installing -> installed, reported by the simulated installer via stage_url.
        const stages = ev.filter((e) => e.type === 'node.stage').map((e) => `${e.data.from}->${e.data.to}`);
        expect(stages).toEqual(expect.arrayContaining(['bound->installing', 'installing->installed']));
      }
      // The others keep checking in as registered nodes.
      const others = lab.nodes().filter((n) => !pair.some((p) => p.serial === n.serial));
      expect(others.every((n) => n.state === 'registered')).toBe(true);
    } finally {
      await lab.stop();
    }
    expect(logged.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('stop() while the appliance is away ends every node promptly; start errors say the fix', async () => {
    const lab = createLabPlugin({ baseUrl: 'http://127.0.0.1:9', count: 20, log, timing: { backoffBaseMs: 20, backoffCapMs: 100 } });
    await lab.start();
    await until('nodes backing off', () => lab.nodes().filter((n) => n.state === 'backoff').length >= 10, 20_000, 50);
    await lab.stop();
    // stop() waited for every node's run to end: all are off now.
    expect(new Set(lab.nodes().map((n) => n.state))).toEqual(new Set(['off']));
    const bad = createLabPlugin({ baseUrl: core.baseUrl, count: -1, log });
    await expect(bad.start()).rejects.toMatchObject({ code: 'CC_ERR_CONFIG_INVALID', message: expect.stringMatching(/--lab sim:N/) });
    const empty = createLabPlugin({ baseUrl: core.baseUrl, count: 1, log, profilesDir: '/nonexistent-profiles' });
    await expect(empty.start()).rejects.toMatchObject({ code: 'CC_ERR_LAB_PROFILES', fix: expect.stringMatching(/lab-profiles/) });
  });
});
