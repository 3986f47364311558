// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import NodeConflicts from './node-conflicts.vue';
import { makeNode } from '../test-fixtures/nodes.ts';
import { mountInApp } from '../test-fixtures/mount-app.ts';

type Call = { url: string; method: string; body: unknown };

function fakeFetch(): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : null });
    return new Response(JSON.stringify(makeNode(7)), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

const node = makeNode(7, {
  conflicts: [
    { node_id: 5, field: 'mac', value: '52:54:00:00:00:05' },
    { node_id: 5, field: 'serial', value: 'SN5' },
    { node_id: 6, field: 'uuid', value: '6a1e2b3c-0000-4000-8000-000000000006' },
  ],
});

describe('node conflicts', () => {
  it('lists the conflicts by the record that holds them, with Merge and Keep apart', async () => {
    const { wrapper } = await mountInApp(NodeConflicts, { node });
    const rows = wrapper.findAll('[data-test="node-conflict"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.text()).toContain('Node 5 holds mac 52:54:00:00:00:05, serial SN5');
    expect(rows[1]!.text()).toContain('Node 6 holds uuid');
    wrapper.unmount();
  });

  it('keeps apart and merges through the admin API', async () => {
    const calls = fakeFetch();
    const { wrapper } = await mountInApp(NodeConflicts, { node });
    await wrapper.findAll('[data-test="conflict-keep-apart"]')[1]!.trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ url: '/api/v1/nodes/7/conflicts/dismiss', method: 'POST', body: { node_id: 6 } });
    await wrapper.findAll('[data-test="conflict-merge"]')[0]!.trigger('click');
    await flushPromises();
    // The confirm dialog: merging deletes the other record, so it is asked first.
    const confirm = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Merge' && !b.closest('[data-test]'));
    expect(confirm).toBeTruthy();
    confirm!.click();
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ url: '/api/v1/nodes/merge', method: 'POST', body: { into: 7, from: 5 } });
    wrapper.unmount();
  });

  it('shows nothing for a node without conflicts', async () => {
    const { wrapper } = await mountInApp(NodeConflicts, { node: makeNode(8) });
    expect(wrapper.find('[data-test="node-conflicts"]').exists()).toBe(false);
    wrapper.unmount();
  });
});
