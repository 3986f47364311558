// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import type { Node } from '../../../contract/node.ts';
import { COALESCE_MS, HIGHLIGHT_MS, NodesStore, type NodesSource } from './nodes-store.ts';
import { makeNode } from '../test-fixtures/nodes.ts';

const ev = (type: string, node_id: number, seq = 1): CcEvent =>
  ({
    seq,
    ts: new Date().toISOString(),
    type,
    node_id,
    mac: null,
    message: type,
    data: {},
  }) as CcEvent; // a fixture: only the fields the store reads

function source(server: Map<number, Node>): NodesSource & { fetches: number[] } {
  const fetches: number[] = [];
  return {
    fetches,
    fetchAll: async () => [...server.values()],
    fetchOne: async (id) => {
      fetches.push(id);
      return server.get(id) ?? null;
    },
  };
}

describe('nodes store', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refetches a node on bmc.* events, and at once on refresh (a power answer recorded after its events)', async () => {
    const at = '2026-11-30T00:00:00.000Z';
    const server = new Map([1, 2].map((id) => [id, makeNode(id)]));
    const src = source(server);
    const store = new NodesStore(src);
    await store.load();
    server.set(1, makeNode(1, { power: { state: 'on', checked_at: at } }));
    store.handleEvent(ev('bmc.power_changed', 1));
    await vi.advanceTimersByTimeAsync(COALESCE_MS + 1);
    expect(store.get(1)?.power?.state).toBe('on');
    server.set(2, makeNode(2, { power: { state: 'off', checked_at: at } }));
    await store.refresh([2]);
    expect(src.fetches).toEqual([1, 2]);
    expect(store.get(2)?.power?.state).toBe('off');
  });

  it('coalesces a burst of events into one GET per node and marks new nodes', async () => {
    const server = new Map([1, 2].map((id) => [id, makeNode(id)]));
    const src = source(server);
    const store = new NodesStore(src);
    await store.load();
    expect(store.nodes.value).toHaveLength(2);

    server.set(3, makeNode(3, { state: 'discovered' }));
    server.set(1, makeNode(1, { state: 'bound', policy: 'debian' }));
    for (let i = 0; i < 50; i++) store.handleEvent(ev(i % 2 ? 'node.checkin' : 'node.discovered', i % 2 ? 1 : 3, i));
    store.handleEvent(ev('dhcp.ack', 2)); // not a node.* event: ignored
    expect(src.fetches).toEqual([]);
    await vi.advanceTimersByTimeAsync(COALESCE_MS + 1);
    expect(src.fetches.sort()).toEqual([1, 3]);
    expect(store.nodes.value.map((n) => n.id).sort()).toEqual([1, 2, 3]);
    expect(store.get(1)?.state).toBe('bound');
    expect([...store.newIds.value]).toEqual([3]);
    await vi.advanceTimersByTimeAsync(HIGHLIGHT_MS + 1);
    expect(store.newIds.value.size).toBe(0);
  });

  it('drops forgotten nodes and nodes that answer 404', async () => {
    const server = new Map([1, 2, 3].map((id) => [id, makeNode(id)]));
    const store = new NodesStore(source(server));
    await store.load();
    store.handleEvent(ev('node.forgotten', 1));
    expect(store.nodes.value.map((n) => n.id)).toEqual([2, 3]);
    server.delete(2);
    store.handleEvent(ev('node.merged', 2));
    await vi.advanceTimersByTimeAsync(COALESCE_MS + 1);
    expect(store.nodes.value.map((n) => n.id)).toEqual([3]);
  });

  it('keeps the load error for the screen to show', async () => {
    const store = new NodesStore({ fetchAll: async () => Promise.reject(new Error('boom')), fetchOne: async () => null });
    await store.load();
    expect(store.error.value?.message).toContain('boom');
    expect(store.loaded.value).toBe(false);
  });
});
