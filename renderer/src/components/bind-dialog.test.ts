// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import BindDialog from './bind-dialog.vue';
import { makeNode } from '../test-fixtures/nodes.ts';
import { mountInApp } from '../test-fixtures/mount-app.ts';

type Call = { url: string; method: string; body: unknown };

const policy = (name: string, task: string) => ({
  name,
  enabled: true,
  priority: 0,
  tags: [],
  max_count: null,
  task,
  image: null,
  hostname_template: 'node${id}',
  root_password_set: false,
  ssh_keys: [],
  metadata: {},
  bound_count: 0,
  unreachable: false,
});

function fakeFetch(): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : null });
    const body =
      url === '/api/v1/policies'
        ? { policies: [policy('wipe', 'erase'), policy('web', 'debian')] }
        : { results: [7, 8].map((node_id) => ({ node_id, ok: true, state: 'bound' })) };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

const q = (sel: string) => document.querySelector(sel) as HTMLElement | null;

describe('bind dialog', () => {
  it('asks for the node count before binding to an erase policy, and sends it as confirm_count', async () => {
    const calls = fakeFetch();
    const { wrapper } = await mountInApp(BindDialog, { show: true, nodeIds: [7, 8] }, [makeNode(7), makeNode(8)]);
    await flushPromises();
    // The first enabled policy is chosen: the erase one.
    expect(q('[data-test="bind-erase-warning"]')?.textContent).toContain('ERASES EVERY DISK');
    const button = q('[data-test="bind-confirm"]') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    const input = q('[data-test="bind-confirm-count"] input') as HTMLInputElement;
    for (const wrong of ['1', '3', 'two']) {
      input.value = wrong;
      input.dispatchEvent(new Event('input'));
      await flushPromises();
      expect(button.disabled, wrong).toBe(true);
    }
    input.value = '2';
    input.dispatchEvent(new Event('input'));
    await flushPromises();
    expect(button.disabled).toBe(false);
    button.click();
    await flushPromises();
    expect(calls.at(-1)).toEqual({
      url: '/api/v1/nodes/bind',
      method: 'POST',
      body: { node_ids: [7, 8], policy: 'wipe', confirm_count: 2 },
    });
    wrapper.unmount();
  });
});
