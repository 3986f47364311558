// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import RuleEditor from './rule-editor.vue';
import { mountInApp } from '../test-fixtures/mount-app.ts';
import { makeNode } from '../test-fixtures/nodes.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

function dryRun(handler: (body: Record<string, unknown>) => { status: number; body: unknown }): Array<Record<string, unknown>> {
  const bodies: Array<Record<string, unknown>> = [];
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit = {}) => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    bodies.push(body);
    const r = handler(body);
    return new Response(JSON.stringify(r.body), { status: r.status });
  });
  return bodies;
}

describe('rule editor', () => {
  it('shows the server message naming the position of a bad operator', async () => {
    vi.useFakeTimers();
    dryRun(() => ({
      status: 400,
      body: {
        statusCode: 400,
        code: 'CC_ERR_RULE_INVALID',
        error: 'Bad Request',
        message: 'The tag rule is invalid: rule[0]: unknown operator "equals"',
        fix: 'see docs',
      },
    }));
    const { wrapper } = await mountInApp(RuleEditor, { modelValue: '["equals", ["fact", "x"], 1]' });
    await vi.advanceTimersByTimeAsync(400);
    await flushPromises();
    expect(wrapper.find('[data-test="rule-error"]').text()).toContain('rule[0]: unknown operator "equals"');
    wrapper.unmount();
  });

  it('reports JSON syntax locally without asking the server', async () => {
    vi.useFakeTimers();
    const bodies = dryRun(() => ({ status: 200, body: { matches: [] } }));
    const { wrapper } = await mountInApp(RuleEditor, { modelValue: '["=", ["fact" "x"]' });
    await vi.advanceTimersByTimeAsync(400);
    await flushPromises();
    expect(wrapper.find('[data-test="rule-error"]').text()).toMatch(/Not valid JSON at line 1/);
    expect(bodies).toHaveLength(0);
    wrapper.unmount();
  });

  it('previews matching nodes for a valid rule', async () => {
    vi.useFakeTimers();
    const bodies = dryRun(() => ({
      status: 200,
      body: {
        matches: [
          { node_id: 1, hostname: 'alpha', matched: true, reasons: [] },
          { node_id: 2, hostname: 'beta', matched: false, reasons: ['manufacturer is "Supermicro", not "Dell Inc."'] },
        ],
      },
    }));
    const { wrapper } = await mountInApp(RuleEditor, { modelValue: '["=", ["fact", "manufacturer"], "Dell Inc."]' }, [
      makeNode(1),
      makeNode(2),
    ]);
    await vi.advanceTimersByTimeAsync(400);
    await flushPromises();
    expect(bodies[0]).toEqual({ rule: ['=', ['fact', 'manufacturer'], 'Dell Inc.'] });
    const preview = wrapper.find('[data-test="rule-preview"]').text();
    expect(preview).toContain('1 of 2 node(s) match');
    expect(preview).toContain('alpha');
    expect(preview).not.toContain('beta');
    wrapper.unmount();
  });
});
