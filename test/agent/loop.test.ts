// The check-in loop against the REAL appliance core over HTTP (child process on loopback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../contract/node.ts';
import { factsHash } from '../../contract/facts-hash.ts';
import { AgentLoop, type AgentEvent, type LoopExit } from '../../agent/loop/agent-loop.ts';
import { ApplianceClient, ApplianceError } from '../../agent/loop/client.ts';
import { backoffCeiling } from '../../agent/loop/backoff.ts';
import { silentLogger } from '../../agent/loop/logger.ts';
import { buildRegisterRequest } from '../../agent/loop/register-request.ts';
import { loadProfiles, personalize, type HardwareProfile } from '../../server/lab/hardware.ts';
import { pxeBoot, startCore, until, type Core } from './core-harness.ts';

let core: Core;
let profiles: HardwareProfile[];
let nextIndex = 0;

beforeAll(async () => {
  [core, profiles] = await Promise.all([startCore(), loadProfiles()]);
  // Fast, deterministic schedule for the tests: 1 s interval, no skew.
  const r = await core.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 1, checkin_skew_s: 0 });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await core?.dispose();
});

interface Harness {
  loop: AgentLoop;
  events: AgentEvent[];
  done: Promise<LoopExit>;
  inv: { current: Inventory };
  nodeId: number;
  hooks: { reboots: number; poweroffs: number };
}

/** PXE-boot a fresh simulated machine, then start the real agent loop with its enrolment token. */
async function bootAgent(extra: Partial<ConstructorParameters<typeof AgentLoop>[0]> = {}): Promise<Harness> {
  const i = nextIndex++;
  const p = profiles[i % profiles.length]!;
  const { inventory, id } = personalize(p, 42, i);
  const d = await pxeBoot(core.baseUrl, {
    mac: id.mac,
    uuid: id.uuid,
    serial: id.serial,
    manufacturer: 'M',
    product: 'P',
    buildarch: 'x86_64',
    platform: 'efi',
  });
  if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);
  const events: AgentEvent[] = [];
  const hooks = { reboots: 0, poweroffs: 0 };
  const inv = { current: inventory };
  const loop = new AgentLoop({
    client: new ApplianceClient(core.baseUrl),
    token: d.token,
    nodeId: d.nodeId,
    inventory: async () => inv.current,
    hooks: { reboot: () => void hooks.reboots++, poweroff: () => void hooks.poweroffs++ },
    log: silentLogger,
    startDelayMaxMs: 0,
    skewOverrideMs: 0,
    backoffBaseMs: 50,
    backoffCapMs: 400,
    factsMaxAgeMs: 0,
    onEvent: (e) => {
      if (events.length < 5000) events.push(e);
    },
    ...extra,
  });
  return { loop, events, done: loop.run(), inv, nodeId: d.nodeId!, hooks };
}

const count = (h: Harness, t: AgentEvent['type']) => h.events.filter((e) => e.type === t).length;

describe('agent loop against the real core', () => {
  it('registers with the enrolment token, then checks in; the core stores the same facts hash', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    const reg = h.events.find((e) => e.type === 'registered');
    expect(reg).toMatchObject({ type: 'registered', node_id: h.nodeId });
    const node = (await core.admin('GET', `/api/v1/nodes/${h.nodeId}`)).json;
    expect(node.state).toBe('registered');
    expect(node.serial).toBe(h.inv.current.system.serial);
    expect(node.facts_hash).toBe(h.loop.status().registered_hash);
    const facts = (await core.admin('GET', `/api/v1/nodes/${h.nodeId}/facts`)).json;
    const stored = facts.facts ?? facts;
    expect(factsHash(stored)).toBe(node.facts_hash);
    expect(stored.macaddress).toBe(h.inv.current.nics[0]!.mac);
    h.loop.stop();
    expect(await h.done).toBe('stopped');
  });

  it('a changed fact makes the agent register again with the new hash', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    const before = h.loop.status().registered_hash;
    const changed = structuredClone(h.inv.current);
    changed.memory.total_mb = (changed.memory.total_mb ?? 0) + 32768; // a DIMM was added
    h.inv.current = changed;
    await until('second register', () => count(h, 'registered') >= 2);
    const after = h.loop.status().registered_hash;
    expect(after).not.toBe(before);
    expect(after).toBe(buildRegisterRequest(changed, { token: 'x'.repeat(8) }, null).facts_hash);
    const node = await until('core has the new hash', async () => {
      const n = (await core.admin('GET', `/api/v1/nodes/${h.nodeId}`)).json;
      return n.facts_hash === after ? n : null;
    });
    expect(node.summary.memory_mb).toBe(changed.memory.total_mb);
    h.loop.stop();
    await h.done;
  });

  it('pushed config changes the interval and the exclusion pattern without a restart', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    expect(h.loop.status().config.checkin_interval_s).toBe(1);
    const firstSchedule = h.events.find((e) => e.type === 'schedule' && e.reason === 'interval');
    expect(firstSchedule).toMatchObject({ delay_ms: 1000 });
    try {
      expect(
        (await core.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 2, facts_exclude_pattern: '^blockdevice_' })).status,
      ).toBe(200);
      await until('config applied', () => h.events.some((e) => e.type === 'config' && e.config.checkin_interval_s === 2));
      const at = h.events.length;
      await until('a schedule with the new interval', () =>
        h.events.slice(at).some((e) => e.type === 'schedule' && e.reason === 'interval'),
      );
      const next = h.events.slice(at).find((e) => e.type === 'schedule' && e.reason === 'interval');
      expect(next).toMatchObject({ delay_ms: 2000 });
      // The exclusion pattern changed what the agent sends: it registered again without blockdevice_* facts.
      await until('re-register without excluded facts', async () => {
        const f = (await core.admin('GET', `/api/v1/nodes/${h.nodeId}/facts`)).json;
        const stored = f.facts ?? f;
        return (
          Object.keys(stored).length > 0 &&
          !Object.keys(stored).some((k) => k.startsWith('blockdevice_')) &&
          stored.disk_count !== undefined
        );
      });
      expect(h.loop.status().config.facts_exclude_pattern).toBe('^blockdevice_');
    } finally {
      await core.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 1, facts_exclude_pattern: '' });
    }
    h.loop.stop();
    await h.done;
  });

  it('poweroff from the operator reaches the agent', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    const r = await core.admin('POST', '/api/v1/nodes/poweroff', { node_ids: [h.nodeId] });
    expect(r.json.results[0]).toMatchObject({ ok: true });
    expect(await h.done).toBe('poweroff');
    expect(h.hooks.poweroffs).toBe(1);
  });

  it('appliance down: exponential back-off with jitter, then recovery on the same node', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    await core.stop();
    await until('three failed attempts', () => h.events.filter((e) => e.type === 'error').length >= 3, 30_000, 20);
    const waits = h.events.filter((e): e is Extract<AgentEvent, { type: 'schedule' }> => e.type === 'schedule' && e.reason === 'backoff');
    // Each failure schedules its back-off in the same turn as its error event: three errors, at least three waits.
    expect(waits.length).toBeGreaterThanOrEqual(3);
    waits.slice(0, 4).forEach((w, k) => {
      const c = backoffCeiling(k + 1, 50, 400);
      expect(w.delay_ms).toBeGreaterThanOrEqual(c / 2);
      expect(w.delay_ms).toBeLessThanOrEqual(c);
    });
    expect(h.loop.status().state).toBe('backoff');
    expect(h.loop.status().last_error).toMatch(/ECONNREFUSED/);
    const checkinsBefore = count(h, 'checkin');
    await core.start();
    await until('check-ins resume', () => count(h, 'checkin') > checkinsBefore, 30_000);
    expect(h.loop.status()).toMatchObject({ state: 'running', node_id: h.nodeId });
    expect(h.loop.status().failures).toBeGreaterThanOrEqual(3);
    const node = (await core.admin('GET', `/api/v1/nodes/${h.nodeId}`)).json;
    expect(node.state).toBe('registered');
    h.loop.stop();
    await h.done;
  });

  it('a wrong token is refused with a code and a fix, and the agent keeps trying instead of crashing', async () => {
    const client = new ApplianceClient(core.baseUrl);
    const { request } = buildRegisterRequest(personalize(profiles[0]!, 42, 9999).inventory, { token: 'not-a-real-token' }, null);
    const err = await client.register(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplianceError);
    expect(err).toMatchObject({ kind: 'http', status: 403, code: 'CC_ERR_FORBIDDEN' });
    expect((err as ApplianceError).fix).toMatch(/token/i);
    const events: AgentEvent[] = [];
    const loop = new AgentLoop({
      client,
      token: 'not-a-real-token',
      inventory: async () => personalize(profiles[0]!, 42, 9999).inventory,
      hooks: { reboot() {}, poweroff() {} },
      log: silentLogger,
      startDelayMaxMs: 0,
      backoffBaseMs: 20,
      backoffCapMs: 40,
      onEvent: (e) => void events.push(e),
    });
    const done = loop.run();
    await until('two refusals', () => events.filter((e) => e.type === 'error').length >= 2);
    // Between refusals it is either waiting or trying again; it never registered and never crashed.
    expect(['backoff', 'registering']).toContain(loop.status().state);
    expect(loop.status()).toMatchObject({ registers: 0, checkins: 0 });
    expect(loop.status().last_error).toMatch(/CC_ERR_FORBIDDEN/);
    loop.stop();
    expect(await done).toBe('stopped');
  });
  // Last: the node is bound by hand (a tag-less policy never binds by itself: docs/identity.md 3).
  it('binding a policy makes the core answer reboot; the agent runs the hook and exits the loop', async () => {
    const h = await bootAgent();
    await until('first check-in', () => count(h, 'checkin') >= 1);
    const pol = await core.admin('POST', '/api/v1/policies', { name: 'agent-test-local', task: 'local-disk', enabled: true, tags: [] });
    expect([200, 201]).toContain(pol.status);
    const bind = await core.admin('POST', '/api/v1/nodes/bind', { node_ids: [h.nodeId], policy: 'agent-test-local' });
    expect(bind.json.results[0]).toMatchObject({ node_id: h.nodeId, ok: true });
    expect(await h.done).toBe('reboot');
    expect(h.hooks.reboots).toBe(1);
    expect(h.events.some((e) => e.type === 'checkin' && e.command === 'reboot')).toBe(true);
  });
});
