// @vitest-environment happy-dom
/**
 * The hook editor (hook-form.vue) with a webhook URL it cannot read back (docs/hooks.md, "Webhook URLs are
 * write-only"): the field starts empty with the display form as its placeholder, a save without typing sends no
 * `url` (the server keeps the stored one), a typed URL is sent, and a pasted display form is refused before the
 * round trip.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import HookForm from './hook-form.vue';
import { mountInApp } from '../test-fixtures/mount-app.ts';
import type { Hook } from '../../../contract/hooks.ts';

type Call = { url: string; method: string; body: unknown };

function fakeFetch(answer: unknown): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : null });
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

const hook: Hook = {
  id: 'abc123',
  name: 'slack',
  events: ['registered'],
  kind: 'webhook',
  script: null,
  url: 'https://hooks.slack.com/services/…',
  has_secret: true,
  created_at: '2026-01-01T00:00:00Z',
};

describe('hook editor', () => {
  it('keeps the stored URL unless a new one is typed', async () => {
    const calls = fakeFetch(hook);
    const { wrapper } = await mountInApp(HookForm, { hook });
    const input = wrapper.find('[data-test="hook-url"] input');
    expect((input.element as HTMLInputElement).value).toBe('');
    expect(input.attributes('placeholder')).toContain('https://hooks.slack.com/services/…');
    expect(wrapper.find('[data-test="hook-problems"]').exists()).toBe(false);

    await wrapper.find('[data-test="hook-save"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ url: '/api/v1/hooks/abc123', method: 'PUT' });
    expect(calls.at(-1)!.body).toEqual({ name: 'slack', events: ['registered'], kind: 'webhook' });

    await input.setValue('https://hooks.slack.com/services/T1/B1/NEW');
    await wrapper.find('[data-test="hook-save"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)!.body).toEqual({
      name: 'slack',
      events: ['registered'],
      kind: 'webhook',
      url: 'https://hooks.slack.com/services/T1/B1/NEW',
    });
    wrapper.unmount();
  });

  it('refuses a pasted display form, and a new webhook needs its URL', async () => {
    fakeFetch(hook);
    const { wrapper } = await mountInApp(HookForm, { hook });
    await wrapper.find('[data-test="hook-url"] input').setValue('https://hooks.slack.com/services/…');
    expect(wrapper.find('[data-test="hook-problems"]').text()).toContain('type the full URL');
    expect(wrapper.find('[data-test="hook-save"]').attributes('disabled')).toBeDefined();
    wrapper.unmount();

    const fresh = (await mountInApp(HookForm, { hook: null })).wrapper;
    await fresh.find('[data-test="hook-name"] input').setValue('ci');
    expect(fresh.find('[data-test="hook-problems"]').text()).toContain('http:// or https://');
    fresh.unmount();
  });
});
