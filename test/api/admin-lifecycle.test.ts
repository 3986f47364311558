import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { tmpDir } from '../support/appliance.ts';
import { ProtocolNode, kernelArgs } from '../support/protocol-node.ts';

let t: TestAppliance;
let mkDir: string;
beforeAll(async () => {
  mkDir = await tmpDir('cc-mk-');
  await fs.writeFile(path.join(mkDir, 'vmlinuz'), Buffer.alloc(4096, 7));
  await fs.writeFile(path.join(mkDir, 'initrd.img'), Buffer.alloc(10000, 9));
  await fs.writeFile(path.join(mkDir, 'manifest.json'), JSON.stringify({ version: 'test-mk-1' }));
  t = await startTestAppliance(
    { microkernelDir: mkDir },
    { settings: { checkin_interval_s: 1, checkin_skew_s: 0, lost_after_intervals: 2 }, sweepIntervalMs: 200 },
  );
});
afterAll(() => t.stop());

describe('admin auth', () => {
  it('refuses requests without or with a wrong token, and exchanges a login code once for a session cookie', async () => {
    expect((await fetch(`${t.adminUrl}/api/v1/nodes`)).status).toBe(401);
    const wrong = await fetch(`${t.adminUrl}/api/v1/nodes`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { fix: string }).fix).toContain('crashcart token');
    const code = new URL(t.app.loginUrl).hash.replace('#login=', '');
    const s = await fetch(`${t.adminUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(s.status).toBe(200);
    const cookie = s.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${t.adminUrl}/api/v1/nodes`, { headers: { cookie } })).status).toBe(200);
    const again = await fetch(`${t.adminUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(again.status).toBe(401);
    expect((await fetch(`${t.adminUrl}/api/v1/health`)).status).toBe(200);
    const stat = (await fs.stat(path.join(t.dataDir, 'admin-token'))).mode & 0o777;
    expect(stat).toBe(0o600);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    expect((await fetch(`${t.adminUrl}/api/docs/json`)).status).toBe(401);
    const doc = (await t.admin('GET', '/api/docs/json')).body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/nodes', '/api/v1/nodes/bind', '/api/v1/tags', '/api/v1/policies', '/api/v1/dry-run']),
    );
  });
});

describe('one machine from discovery to local disk (each step its own test, in order)', () => {
  let n: ProtocolNode;

  it('discovers it: the microkernel script, ranged microkernel assets, register and first check-in', async () => {
    n = new ProtocolNode(t, ['52:54:00:30:00:01', '52:54:00:30:00:02'], { manufacturer: 'Supermicro', memorysize_mb: 32768 });
    const script = await n.boot();
    expect(script).toContain(`kernel --name vmlinuz ${t.nodeUrl}/mk/vmlinuz initrd=initrd.img crashcart.url=${t.nodeUrl}`);
    expect(script).toContain('# Crashcart: discovery microkernel test-mk-1');
    expect(script).toContain(`initrd --name initrd.img ${t.nodeUrl}/mk/initrd.img`);
    // Range on the microkernel assets.
    const part = await fetch(`${t.nodeUrl}/mk/initrd.img`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    await n.register();
    expect((await n.checkin(true)).body.command).toBe('acknowledge');
  });

  it('takes an image upload and a disabled policy that uses it', async () => {
    const up = await fetch(`${t.adminUrl}/api/v1/images/deb12/files/linux`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(300000, 1),
    });
    expect(up.status).toBe(200);
    await fetch(`${t.adminUrl}/api/v1/images/deb12/files/initrd.gz`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5000, 2),
    });
    const imgs = await t.admin('GET', '/api/v1/images');
    expect(imgs.body.images[0]).toMatchObject({ name: 'deb12', kind: 'kernel-initrd' });
    expect(imgs.body.images[0].files.map((f: { name: string }) => f.name)).toEqual(['initrd.gz', 'linux']);
    expect((await t.admin('PUT', '/api/v1/images/deb12/files/..%2Fx', undefined)).status).toBe(400);
    const pol = await t.admin('POST', '/api/v1/policies', {
      name: 'debian-web',
      task: 'debian',
      image: 'deb12',
      enabled: false,
      hostname_template: 'web${id}',
      ssh_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA30HM6VskOhl4h5q4RvAF53qFUgiPvFk1bhhYmfNo0a test@crashcart'],
      root_password_hash: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    });
    expect(pol.status).toBe(201);
  });

  it('binds it with one click (an unknown id is reported, not thrown) and the next check-in says reboot', async () => {
    const b = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId, 999999], policy: 'debian-web' });
    expect(b.body.results).toEqual([
      { node_id: n.nodeId, ok: true, state: 'bound' },
      { node_id: 999999, ok: false, reason: 'no such node' },
    ]);
    const c = await n.checkin();
    expect(c.body.command).toBe('reboot');
  });

  it('reboots into the installer, which fetches its preseed and reports stages to installed; then local disk', async () => {
    const task = await n.boot();
    expect(task).toContain(
      `kernel ${t.nodeUrl}/images/deb12/linux initrd=initrd.gz auto=true priority=critical url=${t.nodeUrl}/api/v1/nodes/${n.nodeId}/files/`,
    );
    expect(task).toContain(`hostname=web${n.nodeId}`);
    const stageUrl = /stage_url=(\S+)/.exec(task)![1]!;
    const preseedUrl = /url=(\S+preseed\.cfg)/.exec(task)![1]!;
    const kernel = await fetch(`${t.nodeUrl}/images/deb12/linux`, { headers: { range: 'bytes=0-9' } });
    expect(kernel.status).toBe(206);
    const pre = await fetch(preseedUrl);
    expect(pre.status).toBe(200);
    const preseed = await pre.text();
    expect(preseed).toContain(`d-i netcfg/get_hostname string web${n.nodeId}`);
    expect(preseed).toContain(
      'd-i passwd/root-password-crypted password $6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    );
    expect(preseed).toContain(
      "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA30HM6VskOhl4h5q4RvAF53qFUgiPvFk1bhhYmfNo0a test@crashcart' >> /target/root/.ssh/authorized_keys",
    );
    expect((await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body.state).toBe('installing');
    expect((await fetch(preseedUrl.replace(/files\/[^/]+\//, 'files/wrongtoken/'))).status).toBe(403);
    expect((await fetch(`${stageUrl}&name=bogus`)).status).toBe(400);
    expect((await fetch(`${stageUrl}&name=installed`)).status).toBe(200);
    expect((await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body.state).toBe('installed');
    expect(await n.boot()).toContain('sanboot --no-describe --drive 0x80');
  });

  it('keeps its timeline in order', async () => {
    const timeline = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}/events`)).body.events.map((e: { type: string }) => e.type).reverse();
    expect(timeline).toEqual(
      expect.arrayContaining(['node.discovered', 'node.registered', 'node.bound', 'node.reboot_sent', 'node.stage']),
    );
    expect(timeline.indexOf('node.bound')).toBeLessThan(timeline.indexOf('node.reboot_sent'));
  });

  it('reinstalls it, then unbinds it; the image stays in use by the policy', async () => {
    const ri = await t.admin('POST', '/api/v1/nodes/reinstall', { node_ids: [n.nodeId] });
    expect(ri.body.results[0]).toMatchObject({ ok: true, state: 'bound' });
    expect(await n.boot()).toContain('/images/deb12/linux');
    const ub = await t.admin('POST', '/api/v1/nodes/unbind', { node_ids: [n.nodeId] });
    expect(ub.body.results[0]).toMatchObject({ ok: true, state: 'registered' });
    expect(await n.boot()).toContain('/mk/vmlinuz');
    expect((await t.admin('DELETE', '/api/v1/images/deb12')).status).toBe(409);
  });
});

describe('node life cycle through the admin API', () => {
  it('queues reboot/poweroff for running agents, edits and forgets nodes', async () => {
    const n = new ProtocolNode(t, ['52:54:00:31:00:01'], { x: 1 });
    await n.boot();
    const early = await t.admin('POST', '/api/v1/nodes/reboot', { node_ids: [kernelArgs(n.script).node] });
    expect(early.body.results[0].ok).toBe(false);
    await n.register();
    expect((await t.admin('POST', '/api/v1/nodes/poweroff', { node_ids: [n.nodeId] })).body.results[0].ok).toBe(true);
    expect((await n.checkin()).body.command).toBe('poweroff');
    expect((await n.checkin()).body.command).toBe('acknowledge');
    const p = await t.admin('PATCH', `/api/v1/nodes/${n.nodeId}`, {
      efi_loader: 'snponly.efi',
      hostname: 'db-01',
      metadata: { 'rack.row': 'B' },
    });
    expect(p.body).toMatchObject({ efi_loader: 'snponly.efi', hostname: 'db-01', metadata: { 'rack.row': 'B' } });
    expect((await t.admin('PATCH', `/api/v1/nodes/${n.nodeId}`, { hostname: '-bad name' })).status).toBe(400);
    expect((await t.admin('PATCH', '/api/v1/nodes/424242', { hostname: 'x' })).status).toBe(404);
    expect((await t.admin('POST', '/api/v1/nodes/forget', { node_ids: [n.nodeId] })).body.results[0].ok).toBe(true);
    expect((await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).status).toBe(404);
    expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [], policy: 'x' })).status).toBe(400);
    expect((await t.admin('GET', '/api/v1/nodes/abc')).status).toBe(400);
  });

  it('marks silent agents lost (not deleted) and restores them when they check in again', async () => {
    const n = new ProtocolNode(t, ['52:54:00:32:00:01'], { y: 1 });
    await n.boot();
    await n.register();
    const deadline = Date.now() + 15000;
    let state = '';
    while (Date.now() < deadline && state !== 'lost') {
      await new Promise((r) => setTimeout(r, 300));
      state = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body.state;
    }
    expect(state).toBe('lost');
    expect((await n.checkin()).body.command).toBe('acknowledge');
    expect((await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body.state).toBe('registered');
  });
});

describe('events, live stream and export', () => {
  it('streams events over SSE and resumes after Last-Event-ID', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${t.adminUrl}/api/v1/events/stream`, { headers: { authorization: `Bearer ${t.token}` }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const n = new ProtocolNode(t, ['52:54:00:33:00:01'], { z: 1 });
    await n.boot();
    let buf = '';
    const dec = new TextDecoder();
    while (!buf.includes('node.discovered')) buf += dec.decode((await reader.read()).value);
    ctrl.abort();
    const ids = [...buf.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);
    const first = ids[0]!;
    // Resume from before the first event we saw: we get it (and later ones) again, in order.
    const ctrl2 = new AbortController();
    const res2 = await fetch(`${t.adminUrl}/api/v1/events/stream`, {
      headers: { authorization: `Bearer ${t.token}`, 'last-event-id': String(first - 1) },
      signal: ctrl2.signal,
    });
    const r2 = res2.body!.getReader();
    let buf2 = '';
    while (!buf2.includes(`id: ${first}\n`)) buf2 += dec.decode((await r2.read()).value);
    ctrl2.abort();
    const ids2 = [...buf2.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids2[0]).toBe(first);
    expect([...ids2].sort((a, b) => a - b)).toEqual(ids2);
    // More node events than one page, whatever ran before: each new MAC's boot writes node.discovered and node.boot.
    for (const mac of ['52:54:00:33:00:02', '52:54:00:33:00:03']) await new ProtocolNode(t, [mac], { z: 1 }).boot();
    const all = await t.admin('GET', `/api/v1/events?type=node.&limit=10000`);
    expect(all.body.events.length).toBeGreaterThan(5);
    const page = await t.admin('GET', `/api/v1/events?type=node.&limit=5`);
    expect(page.body.events).toHaveLength(5);
    expect(page.body.events.every((e: { type: string }) => e.type.startsWith('node.'))).toBe(true);
  });

  it('exports the inventory as JSON and CSV, and reports status and interfaces', async () => {
    const j = await t.admin('GET', '/api/v1/export/nodes.json');
    expect(j.body.nodes.length).toBeGreaterThan(0);
    expect(j.body.nodes[0]).toHaveProperty('facts');
    const csv = await fetch(`${t.adminUrl}/api/v1/export/nodes.csv`, { headers: { authorization: `Bearer ${t.token}` } });
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]!.startsWith('id,hostname,state,manufacturer')).toBe(true);
    expect(lines.length).toBe(j.body.nodes.length + 1);
    const st = await t.admin('GET', '/api/v1/status');
    expect(st.body.services.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['admin', 'http-node', 'dhcp', 'tftp']));
    expect(st.body.counts.nodes).toBe(j.body.nodes.length);
    const ifs = await t.admin('GET', '/api/v1/interfaces');
    expect(Array.isArray(ifs.body.interfaces)).toBe(true);
    expect((await t.admin('POST', '/api/v1/setup/probe', { iface: 'no-such-nic0' })).status).toBe(400);
    expect((await t.admin('POST', '/api/v1/setup/apply', { iface: 'x', dhcp: 'maybe' })).status).toBe(400);
  });
});

describe('rate limiting on the node plane', () => {
  it('answers 429 with the reason past the per-source limit', async () => {
    const limited = await startTestAppliance({ rateLimitPerMin: 5 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) codes.push((await limited.node('GET', '/boot.ipxe')).status);
      expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(codes.at(-1)).toBe(429);
      const r = await limited.node('GET', '/boot.ipxe');
      expect(r.body.code).toBe('CC_ERR_RATE_LIMITED');
      // Over the limit: the budget headers and Retry-After; under it: none (rate-key.ts).
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.headers['x-ratelimit-limit']).toBe('5');
      const fresh = await limited.app.network.nodePlane!.inject({ method: 'GET', url: '/boot.ipxe', remoteAddress: '10.9.9.9' });
      expect(fresh.statusCode).toBe(200);
      expect(Object.keys(fresh.headers).filter((h) => h.startsWith('x-ratelimit') || h === 'retry-after')).toEqual([]);
    } finally {
      await limited.stop();
    }
  });

  it('keys IPv6 sources by /64 and IPv4-mapped ones as their IPv4 address', async () => {
    const limited = await startTestAppliance({ rateLimitPerMin: 3 });
    try {
      const plane = limited.app.network.nodePlane!;
      const get = async (remoteAddress: string) => (await plane.inject({ method: 'GET', url: '/boot.ipxe', remoteAddress })).statusCode;
      // Three addresses of one /64 (one spelt in capitals) share a budget of 3; the fourth request is refused.
      const one64 = [
        await get('2001:db8:0:1::10'),
        await get('2001:DB8:0:1::20'),
        await get('2001:db8:0:1:ffff::1'),
        await get('2001:db8:0:1::30'),
      ];
      expect(one64).toEqual([200, 200, 200, 429]);
      expect(await get('2001:db8:0:2::10')).toBe(200);
      // 10.7.7.7 and ::ffff:10.7.7.7 are one source.
      expect([await get('10.7.7.7'), await get('::ffff:10.7.7.7'), await get('10.7.7.7'), await get('::ffff:10.7.7.7')]).toEqual([
        200, 200, 200, 429,
      ]);
    } finally {
      await limited.stop();
    }
  });
});
