/**
 * Setup's "apply" on a running appliance (issue 11, first bullet): only the network group
 * changes; every other setting, including the admin and session flags, survives.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startInProcess, tmpDir, type InProcessAppliance } from '../support/appliance.ts';

let t: InProcessAppliance | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

/** Setup's apply, as the UI sends it. */
const apply = async (a: InProcessAppliance, payload: { iface: string; dhcp: string }) =>
  a.admin.inject({
    method: 'POST',
    url: '/api/v1/setup/apply',
    headers: { authorization: `Bearer ${await a.token()}`, 'content-type': 'application/json' },
    payload,
  });

describe('POST /api/v1/setup/apply', () => {
  it('moves the node plane to the chosen NIC and keeps every other setting', async () => {
    const d = await tmpDir('cc-apply-');
    await fs.mkdir(path.join(d, 'mk'));
    await fs.mkdir(path.join(d, 'tftp'));
    t = await startInProcess([
      '--microkernel', path.join(d, 'mk'), '--tftp-root', path.join(d, 'tftp'), '--rate-limit', '77',
      '--log-level', 'silent', '--efi-loader', 'snponly.efi', '--tftp-port', '0', '--dhcp-port', '1067',
      '--proxy-port', '14011', '--session-idle', '30m', '--session-lifetime', '2h', '--admin-hostname', 'cart.lab',
    ]); // prettier-ignore
    const before = t.app.ctx.config;
    const res = await apply(t, { iface: 'lo', dhcp: 'off' });
    expect(res.statusCode, res.body).toBe(200);
    const after = t.app.ctx.config;
    expect(after).toMatchObject({
      iface: 'lo',
      dhcp: 'off',
      address: { ip: '127.0.0.1', prefix: 8 },
      publicUrl: `http://127.0.0.1:${before.http.port}`,
    });
    const network = new Set(['iface', 'ifindex', 'address', 'dhcp', 'range', 'force', 'http', 'publicUrl']);
    const rest = (c: object) => Object.fromEntries(Object.entries(c).filter(([k]) => !network.has(k)));
    expect(rest(after)).toEqual(rest(before));
    expect(after).toMatchObject({
      microkernelDir: path.join(d, 'mk'),
      tftpRoot: path.join(d, 'tftp'),
      rateLimitPerMin: 77,
      efiLoader: 'snponly.efi',
      ports: { dhcp: 1067, proxy: 14011, tftp: 0 },
      admin: { hostnames: ['cart.lab'], sessionIdleS: 1800, sessionMaxS: 7200 },
    });
    const status = res.json() as { services: { name: string; state: string }[]; config: { iface: string } };
    expect(status.config.iface).toBe('lo');
    expect(status.services.find((s) => s.name === 'tftp')?.state).toBe('running');
    // The node plane answers on its new address.
    expect((await fetch(`${after.publicUrl}/health`)).status).toBe(200);
  });

  it('lasts until the appliance stops: a restart on the same data dir serves what its flags say (docs/config.md)', async () => {
    const d = await tmpDir('cc-apply-restart-');
    const flags = ['--data-dir', d, '--log-level', 'silent', '--tftp-port', '0'];
    t = await startInProcess(flags);
    expect(t.app.ctx.config).toMatchObject({ iface: null, dhcp: 'off' });
    const res = await apply(t, { iface: 'lo', dhcp: 'off' });
    expect(res.statusCode, res.body).toBe(200);
    expect(t.app.ctx.config.iface).toBe('lo');
    await t.stop();
    t = null;
    // A laptop is on another network next time: nothing goes back onto a NIC by itself.
    t = await startInProcess(flags);
    expect(t.app.ctx.config).toMatchObject({ iface: null, dhcp: 'off' });
    const status = (await t.admin.inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${await t.token()}` } })).json() as {
      config: { iface: string | null };
      services: { name: string; state: string }[];
    };
    expect(status.config.iface).toBeNull();
    expect(status.services.find((s) => s.name === 'tftp')?.state).not.toBe('running');
  });
});
