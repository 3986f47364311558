/**
 * Register first, then complete (issue 17): the agent's first register carries the fast facts with
 * facts_complete false, so the node is on the appliance at once; the full inventory follows right after.
 * A rule that matches the fast facts must still not bind the node until the facts are complete
 * (docs/identity.md). The REAL core over HTTP; the slow half is held back by a gate the test opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../contract/node.ts';
import { AgentLoop, type AgentEvent } from '../../agent/loop/agent-loop.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import { silentLogger } from '../../agent/loop/logger.ts';
import { loadProfiles, personalize } from '../../server/lab/hardware.ts';
import { pxeBoot, startCore, until, type Core } from './core-harness.ts';

let core: Core;
beforeAll(async () => {
  core = await startCore();
  expect((await core.admin('PATCH', '/api/v1/settings', { checkin_interval_s: 1, checkin_skew_s: 0 })).status).toBe(200);
  // A tag every machine gets from its first facts, and a policy that binds on it.
  expect((await core.admin('POST', '/api/v1/tags', { name: 'everyone', rule: ['=', 1, 1] })).status).toBe(201);
  expect((await core.admin('POST', '/api/v1/policies', { name: 'all', task: 'local-disk', tags: ['everyone'] })).status).toBe(201);
});
afterAll(async () => {
  await core?.dispose();
});

describe('register first, then complete', () => {
  it('shows the node after the fast facts, binds it only once the slow facts arrived', async () => {
    const [p] = await loadProfiles();
    const { inventory: full, id } = personalize(p!, 7, 0);
    // The fast half: what the agent has without lshw, the BMC or LLDP.
    const fast: Inventory = { ...structuredClone(full), bmc: undefined };
    for (const n of fast.nics) delete n.lldp;
    const d = await pxeBoot(core.baseUrl, { mac: id.mac, uuid: id.uuid, serial: id.serial, manufacturer: 'M', product: 'P', buildarch: 'x86_64', platform: 'efi' }); // prettier-ignore
    if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);

    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const events: AgentEvent[] = [];
    const loop = new AgentLoop({
      client: new ApplianceClient(core.baseUrl),
      token: d.token,
      nodeId: d.nodeId,
      fastInventory: async () => fast,
      inventory: async () => {
        await gate;
        return full;
      },
      hooks: { reboot: () => undefined, poweroff: () => undefined },
      log: silentLogger,
      startDelayMaxMs: 0,
      skewOverrideMs: 0,
      factsMaxAgeMs: 0,
      onEvent: (e) => void events.push(e),
    });
    const done = loop.run();

    const partial = await until('the fast register', async () => {
      const n = (await core.admin('GET', `/api/v1/nodes/${d.nodeId}`)).json;
      return n.state === 'registered' ? n : null;
    });
    expect({ complete: partial.facts_complete, tags: partial.tags, policy: partial.policy, serial: partial.serial }).toEqual({
      complete: false,
      tags: ['everyone'],
      policy: null,
      serial: id.serial,
    });
    // The binder says why, in the words the operator sees in a dry run.
    const dry = await core.admin('POST', '/api/v1/dry-run', { policy: 'all', node_id: d.nodeId });
    expect(JSON.stringify(dry.json)).toContain('only its fast facts');
    expect(events.filter((e) => e.type === 'checkin')).toEqual([]);

    open();
    const bound = await until('the complete register binds it', async () => {
      const n = (await core.admin('GET', `/api/v1/nodes/${d.nodeId}`)).json;
      return n.policy === 'all' ? n : null;
    });
    expect(bound.facts_complete).toBe(true);
    const registered = () => events.filter((e): e is Extract<AgentEvent, { type: 'registered' }> => e.type === 'registered');
    await until('the agent saw its second register answered', () => registered().length >= 2);
    const regs = registered();
    expect(regs.map((r) => r.complete)).toEqual([false, true]);
    // The complete register came before the first check-in, not an interval later.
    expect(events.findIndex((e) => e.type === 'checkin')).toBeGreaterThan(events.indexOf(regs[1]!));
    loop.stop();
    await done;
  });

  it('collects the fast facts during the random start delay, once, and still registers after the delay', async () => {
    const [p] = await loadProfiles();
    const { inventory: full, id } = personalize(p!, 9, 2);
    const fast: Inventory = { ...structuredClone(full), bmc: undefined };
    const d = await pxeBoot(core.baseUrl, { mac: id.mac, uuid: id.uuid, serial: id.serial, manufacturer: 'M', product: 'P', buildarch: 'x86_64', platform: 'efi' }); // prettier-ignore
    if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);
    let calls = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const registered: Record<string, unknown>[] = [];
    const log = {
      ...silentLogger,
      info: (o: unknown, msg?: string) => void (msg === 'registered' && registered.push(o as Record<string, unknown>)),
    };
    const loop = new AgentLoop({
      client: new ApplianceClient(core.baseUrl),
      token: d.token,
      nodeId: d.nodeId,
      fastInventory: async () => {
        calls++;
        await held;
        return fast;
      },
      inventory: async () => full,
      hooks: { reboot: () => undefined, poweroff: () => undefined },
      log,
      random: () => 1,
      startDelayMaxMs: 300,
      skewOverrideMs: 0,
      factsMaxAgeMs: 0,
    });
    const done = loop.run();
    // run() started the collection before it began to wait (synchronously, before its first await).
    expect(calls).toBe(1);
    expect((await core.admin('GET', `/api/v1/nodes/${d.nodeId}`)).json.state).not.toBe('registered');
    release();
    await until('both registers', () => registered.length >= 2);
    // The first register took the facts collected during the wait (no second collection) and says how long the
    // wait was; the complete one came from the full inventory.
    expect(calls).toBe(1);
    expect(registered.map((r) => [r['complete'], r['start_delay_ms'], typeof r['facts_ms']])).toEqual([
      [false, 300, 'number'],
      [true, 300, 'number'],
    ]);
    loop.stop();
    await done;
  });

  it('a fast collection that failed during the delay is collected again by the retry, not awaited again', async () => {
    const [p] = await loadProfiles();
    const { inventory: full, id } = personalize(p!, 10, 3);
    const d = await pxeBoot(core.baseUrl, { mac: id.mac, uuid: id.uuid, serial: id.serial, manufacturer: 'M', product: 'P', buildarch: 'x86_64', platform: 'efi' }); // prettier-ignore
    if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);
    let calls = 0;
    const events: AgentEvent[] = [];
    const loop = new AgentLoop({
      client: new ApplianceClient(core.baseUrl),
      token: d.token,
      nodeId: d.nodeId,
      fastInventory: async () => {
        if (++calls === 1) throw new Error('sysfs read failed');
        return full;
      },
      inventory: async () => full,
      hooks: { reboot: () => undefined, poweroff: () => undefined },
      log: silentLogger,
      random: () => 1,
      startDelayMaxMs: 50,
      backoffBaseMs: 10,
      backoffCapMs: 20,
      skewOverrideMs: 0,
      onEvent: (e) => void events.push(e),
    });
    const done = loop.run();
    await until('registered after the retry', () => events.some((e) => e.type === 'registered'));
    // (schedule events are the loop's sleeps: the start delay, the back-off.)
    expect(
      events
        .map((e) => e.type)
        .filter((t) => t !== 'schedule')
        .slice(0, 2),
    ).toEqual(['error', 'registered']);
    expect(events.find((e) => e.type === 'error')).toMatchObject({ error: 'sysfs read failed' });
    expect(calls).toBe(2);
    loop.stop();
    await done;
  });

  it('an agent that says nothing about completeness (older microkernels) is taken as complete', async () => {
    const [, p] = await loadProfiles();
    const { inventory, id } = personalize(p!, 8, 1);
    const d = await pxeBoot(core.baseUrl, { mac: id.mac, uuid: id.uuid, serial: id.serial, manufacturer: 'M', product: 'P', buildarch: 'x86_64', platform: 'efi' }); // prettier-ignore
    if (d.kind !== 'microkernel') throw new Error(`expected the microkernel script, got ${d.kind}`);
    const loop = new AgentLoop({
      client: new ApplianceClient(core.baseUrl),
      token: d.token,
      nodeId: d.nodeId,
      inventory: async () => inventory,
      hooks: { reboot: () => undefined, poweroff: () => undefined },
      log: silentLogger,
      startDelayMaxMs: 0,
    });
    const done = loop.run();
    const n = await until('bound', async () => {
      const x = (await core.admin('GET', `/api/v1/nodes/${d.nodeId}`)).json;
      return x.policy === 'all' ? x : null;
    });
    expect(n.facts_complete).toBe(true);
    loop.stop();
    await done;
  });
});
