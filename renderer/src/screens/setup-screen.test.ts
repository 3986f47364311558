// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import SetupScreen from './setup-screen.vue';
import { mountInApp } from '../test-fixtures/mount-app.ts';
import type { ApplianceStatus, ForeignServer, InterfaceInfo } from '../../../contract/system.ts';

const interfaces = [
  {
    name: 'wlp2s0',
    mac: 'aa:bb:cc:00:00:01',
    up: true,
    addresses: ['192.168.1.20/24'],
    speed_mbps: null,
    wireless: true,
    default_route: true,
    ifindex: 3,
  },
  {
    name: 'enp3s0',
    mac: 'aa:bb:cc:00:00:02',
    up: true,
    addresses: ['10.42.0.1/24'],
    speed_mbps: 1000,
    wireless: false,
    default_route: false,
    ifindex: 2,
  },
] satisfies InterfaceInfo[];

/** A foreign server as the probe reports it. */
const server = (over: Partial<ForeignServer>): ForeignServer => ({
  serverId: '10.42.0.254',
  from: '10.42.0.254',
  offered: '10.42.0.77',
  answered: ['dhcp'],
  kind: 'dhcp',
  pxe: false,
  bootFile: null,
  malformed: null,
  ...over,
});

function api(probe: { servers: ForeignServer[] }): Array<{ method: string; url: string; body: unknown }> {
  const calls: Array<{ method: string; url: string; body: unknown }> = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : null });
    const json = (b: unknown): Response => new Response(JSON.stringify(b), { status: 200 });
    if (url === '/api/v1/interfaces') return json({ interfaces });
    if (url === '/api/v1/setup/probe') return json(probe);
    if (url === '/api/v1/setup/apply' || url === '/api/v1/status')
      return json({
        services: [{ name: 'dhcp', state: 'running', detail: 'enp3s0' }],
        config: { iface: 'enp3s0', address: '10.42.0.1/24', dhcp: 'full', range: null, publicUrl: 'http://10.42.0.1:8080', lab: null },
        counts: { nodes: 0, by_state: {} },
      } satisfies ApplianceStatus);
    return new Response('{}', { status: 404 });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

describe('setup screen', () => {
  it('warns about the uplink and Wi-Fi, and applies only after the probe', async () => {
    const calls = api({ servers: [] });
    const { wrapper } = await mountInApp(SetupScreen, {});
    await flushPromises();
    const wifi = wrapper.find('[data-iface="wlp2s0"]').text();
    expect(wifi).toContain('Carries the default route');
    expect(wifi).toContain('Wi-Fi');
    expect(wrapper.find('[data-iface="enp3s0"]').text()).not.toContain('default route');

    await wrapper.find('[data-iface="enp3s0"] input').setValue(true);
    const apply = (): boolean => wrapper.find('[data-test="apply"]').attributes('disabled') !== undefined;
    expect(apply()).toBe(true);
    await wrapper.find('[data-test="probe"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="probe-clear"]').text()).toContain('No other DHCP server answered on enp3s0');
    expect(apply()).toBe(false);
    await wrapper.find('[data-test="apply"]').trigger('click');
    await flushPromises();
    const applied = calls.find((c) => c.url === '/api/v1/setup/apply');
    expect(applied?.body).toMatchObject({ iface: 'enp3s0', address: '10.42.0.1/24' });
    wrapper.unmount();
  });

  it('shows a foreign DHCP server and requires an explicit choice for full DHCP', async () => {
    api({
      servers: [
        server({ serverId: '192.168.1.1', offered: '192.168.1.77', from: '192.168.1.1' }),
        // A proxyDHCP server offers no address (the contract says null, never a string).
        server({ serverId: '192.168.1.2', offered: null, from: '192.168.1.2', kind: 'proxy', pxe: true }),
      ],
    });
    const { wrapper } = await mountInApp(SetupScreen, {});
    await flushPromises();
    await wrapper.find('[data-iface="enp3s0"] input').setValue(true);
    await wrapper.find('[data-test="probe"]').trigger('click');
    await flushPromises();
    const foreign = wrapper.find('[data-test="probe-foreign"]').text().replace(/\s+/g, ' ');
    expect(foreign).toContain('Server 192.168.1.1 (from 192.168.1.1) offered 192.168.1.77');
    expect(foreign).toContain('Server 192.168.1.2 (from 192.168.1.2) answered without an address');
    expect(foreign).not.toContain('null');
    // Proxy mode (the default) coexists with it; full DHCP needs the "anyway" box.
    expect(wrapper.find('[data-test="apply"]').attributes('disabled')).toBeUndefined();
    await wrapper
      .findAll('.n-radio-button')
      .find((b) => b.text().startsWith('Full DHCP'))!
      .find('input')
      .setValue(true);
    await flushPromises();
    expect(wrapper.find('[data-test="apply"]').attributes('disabled')).toBeDefined();
    expect(wrapper.find('[data-test="probe-foreign"]').text()).toContain('serve full DHCP anyway');
    wrapper.unmount();
  });
});
