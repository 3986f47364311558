// @vitest-environment happy-dom
/**
 * Adding a machine never seen by its BMC (bmc-expect-form.vue) and the node's BMC tab buttons that read the
 * identifiers of a manifest record and ask for in-band enrolment: what reaches the admin API, what is shown.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import BmcExpectForm from './bmc-expect-form.vue';
import BmcForm from './bmc-form.vue';
import { makeNode } from '../test-fixtures/nodes.ts';
import { mountInApp } from '../test-fixtures/mount-app.ts';

type Call = { url: string; method: string; body: unknown };

function fakeFetch(answer: unknown, status = 200): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : null });
    return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

const UUID = '0badc0de-0000-4000-8000-0000000000d1';
const expected = makeNode(12, { state: 'expected', uuid: UUID, hostname: 'r7-01' });

async function fill(wrapper: Awaited<ReturnType<typeof mountInApp>>['wrapper'], field: string, value: string): Promise<void> {
  await wrapper.find(`[data-test="${field}"] input`).setValue(value);
}

describe('add a machine by its BMC', () => {
  it('sends the BMC (password write-only) and shows the identifiers the machine will be recognised by', async () => {
    const calls = fakeFetch(
      { node: expected, identity: { uuid: UUID, serial: 'SER-7', macs: ['52:54:00:d1:00:01'], sources: [] }, warnings: ['no FRU'] },
      201,
    );
    const { wrapper } = await mountInApp(BmcExpectForm, {});
    const add = wrapper.find('[data-test="bmc-expect-add"]');
    expect(add.attributes('disabled')).toBeDefined();
    await fill(wrapper, 'bmc-expect-address', ' 10.0.5.21 ');
    await fill(wrapper, 'bmc-expect-username', 'admin');
    await fill(wrapper, 'bmc-expect-password', 'S3cret-pw');
    await fill(wrapper, 'bmc-expect-hostname', 'r7-01');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({
      url: '/api/v1/nodes/from-bmc',
      method: 'POST',
      body: { bmc: { driver: 'ipmi', address: '10.0.5.21', username: 'admin', password: 'S3cret-pw' }, hostname: 'r7-01' },
    });
    const done = wrapper.find('[data-test="bmc-expect-done"]').text();
    expect(done).toContain('Node 12 expected');
    expect(done).toContain(`UUID ${UUID}`);
    expect(done).toContain('serial SER-7');
    expect(done).toContain('MAC 52:54:00:d1:00:01');
    expect(done).toContain('no FRU');
    // The password field is emptied once sent.
    expect((wrapper.find('[data-test="bmc-expect-password"] input').element as HTMLInputElement).value).toBe('');
    wrapper.unmount();
  });

  it('shows the error and its fix when the BMC describes a known machine', async () => {
    fakeFetch(
      {
        statusCode: 409,
        code: 'CC_ERR_BMC_MACHINE_KNOWN',
        message: 'describes a machine already known: node 4 (uuid x)',
        fix: 'Set the BMC on that node',
      },
      409,
    );
    const { wrapper } = await mountInApp(BmcExpectForm, {});
    await fill(wrapper, 'bmc-expect-address', '10.0.5.21');
    await fill(wrapper, 'bmc-expect-username', 'admin');
    await fill(wrapper, 'bmc-expect-password', 'pw');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.text()).toContain('CC_ERR_BMC_MACHINE_KNOWN');
    expect(wrapper.text()).toContain('Set the BMC on that node');
    expect(wrapper.find('[data-test="bmc-expect-done"]').exists()).toBe(false);
    wrapper.unmount();
  });
});

describe("a node's BMC tab", () => {
  const bmc = {
    driver: 'ipmi' as const,
    address: '10.0.5.21',
    port: 623,
    username: 'admin',
    password_set: true,
    system_path: null,
    tls: 'pin' as const,
    tls_fingerprint: null,
    ipmi_cipher_suite: null,
  };
  const link = {
    row: 2,
    source: 'rack7.csv',
    imported_at: '2026-01-01T00:00:00Z',
    policy: null,
    ip: null,
    bmc_address: '10.0.5.21',
    claimed_at: null,
    mismatch: [],
  };

  it('an unclaimed manifest record with a BMC reads its identifiers; any node asks for in-band enrolment', async () => {
    const calls = fakeFetch({ node: expected, identity: { uuid: UUID, serial: null, macs: [], sources: [] }, warnings: [] });
    const { wrapper } = await mountInApp(BmcForm, { node: makeNode(12, { state: 'expected', bmc, manifest: link }) });
    await wrapper.find('[data-test="bmc-identify"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ url: '/api/v1/nodes/12/bmc/identify', method: 'POST', body: {} });
    await wrapper.find('[data-test="bmc-enrol"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ url: '/api/v1/nodes/12/bmc/enrol', method: 'POST', body: {} });
    wrapper.unmount();
  });

  it('a claimed node offers no identify', async () => {
    const { wrapper } = await mountInApp(BmcForm, {
      node: makeNode(13, { bmc, manifest: { ...link, claimed_at: '2026-01-02T00:00:00Z' } }),
    });
    expect(wrapper.find('[data-test="bmc-identify"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="bmc-enrol"]').exists()).toBe(true);
    wrapper.unmount();
  });
});
