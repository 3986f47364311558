/**
 * The installer's answer-file and stage routes, which carry the install token in the URL: a file name from the
 * URL finds only the task's own files (never `constructor` or `__proto__` of Object.prototype), and a request
 * that fails with a 5xx is logged without the token. And what only the node is served stays out of a task
 * preview (the root password hash) and out of every template (a BMC password, even sealed).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { consoleLogger } from '../../server/core/console-logger.ts';
import { loggableUrl } from '../../server/http/loggable-url.ts';

const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

let t: TestAppliance;
let nodeId: number;
let token: string;
/** Every line the appliance logged (error level and up). */
const logged: string[] = [];

beforeAll(async () => {
  t = await startTestAppliance({}, { log: consoleLogger('error', (l) => void logged.push(l)) });
  const n = new ProtocolNode(t, ['52:54:00:66:00:01'], { manufacturer: 'QEMU' });
  await n.boot();
  await n.register();
  nodeId = n.nodeId;
  const p = await t.admin('POST', '/api/v1/policies', { name: 'deb', task: 'debian', enabled: false, root_password_hash: HASH });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const b = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [nodeId], policy: 'deb' });
  expect(b.body.results[0]).toMatchObject({ ok: true, state: 'bound' });
  // The installer's boot script names its stage URL, with the install token /boot just minted.
  token = /stage\?token=([A-Za-z0-9_-]+)/.exec(await n.boot())![1]!;
});
afterAll(() => t.stop());

const state = async (): Promise<string> => (await t.admin('GET', `/api/v1/nodes/${nodeId}`)).body.state;

describe('a 5xx on a URL with the install token', () => {
  it('is logged with the token cut out of the path and the query', async () => {
    const get = vi.spyOn(t.app.ctx.repo, 'get').mockImplementation(() => {
      throw new Error('forced failure for the log test');
    });
    try {
      const file = await t.node('GET', `/api/v1/nodes/${nodeId}/files/${token}/preseed.cfg`);
      expect(file.status).toBe(500);
      const stage = await t.node('GET', `/api/v1/nodes/${nodeId}/stage?token=${token}&name=installing`);
      expect(stage.status).toBe(500);
    } finally {
      get.mockRestore();
    }
    const failed = logged.filter((l) => l.includes('request failed'));
    expect(failed).toHaveLength(2);
    expect(failed.join('\n')).not.toContain(token);
    expect(failed[0]).toContain(`/api/v1/nodes/${nodeId}/files/[redacted]/preseed.cfg`);
    expect(failed[1]).toContain(`/api/v1/nodes/${nodeId}/stage?token=[redacted]&name=installing`);
    expect(await state()).toBe('bound');
  });

  it('loggableUrl: the token segment however it is spelled, secret-named and token-like query values; the rest as it was', () => {
    expect(loggableUrl('/api/v1/nodes/5/files/AbCdEf0123456789_-xyzQ/ks.cfg')).toBe('/api/v1/nodes/5/files/[redacted]/ks.cfg');
    expect(loggableUrl('/api/v1/nodes/5/%66iles/secret-token/ks.cfg')).toBe('/api/v1/nodes/5/%66iles/[redacted]/ks.cfg');
    expect(loggableUrl('/api/v1/nodes/5/stage?name=failed&%74oken=abc&detail=disk%20full')).toBe(
      '/api/v1/nodes/5/stage?name=failed&%74oken=[redacted]&detail=disk%20full',
    );
    expect(loggableUrl('/x?password=a&api_key=b&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==')).toBe(
      '/x?password=[redacted]&api_key=[redacted]&sig=[redacted]',
    );
    expect(loggableUrl('/boot?mac=52:54:00:66:00:01&arch=x86_64')).toBe('/boot?mac=52:54:00:66:00:01&arch=x86_64');
    expect(loggableUrl('/images/deb12/linux')).toBe('/images/deb12/linux');
  });
});

describe('answer file names from the URL', () => {
  it('Object.prototype members are no answer file: 404, no event, and the node does not move', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = await t.node('GET', `/api/v1/nodes/${nodeId}/files/${token}/${name}`);
      expect(r.status, `${name}: ${r.text}`).toBe(404);
      expect(r.body.code).toBe('CC_ERR_NOT_FOUND');
      expect(r.body.message).toContain('has no file');
    }
    expect(await state()).toBe('bound');
    const events = (await t.admin('GET', `/api/v1/nodes/${nodeId}/events`)).body.events as { type: string; message: string }[];
    expect(events.filter((e) => e.type === 'http.transfer' || e.type === 'node.stage')).toEqual([]);
  });

  it("the task's own file is served (the control): the real hash, and the node moves to installing", async () => {
    const r = await t.node('GET', `/api/v1/nodes/${nodeId}/files/${token}/preseed.cfg`);
    expect(r.status).toBe(200);
    expect(r.text).toContain(`d-i passwd/root-password-crypted password ${HASH}`);
    expect(await state()).toBe('installing');
  });
});

describe('secrets in the template context', () => {
  it('a preview shows the root password hash as [redacted]; no template sees a BMC password, even sealed', async () => {
    const m = new ProtocolNode(t, ['52:54:00:66:00:02'], { manufacturer: 'QEMU' });
    await m.boot();
    await m.register();
    const bmc = { driver: 'ipmi', address: '192.0.2.10', port: 623, username: 'opsadmin', password: 'bmc-pass-4f2a9' };
    expect((await t.admin('PUT', `/api/v1/nodes/${m.nodeId}/bmc`, bmc)).status).toBe(200);
    const task = {
      name: 'peek',
      ipxe: '#!ipxe\necho user={{node.bmc.username}} sealed={{node.bmc.password_enc}} hash={{policy.root_password_hash}}\n',
    };
    expect((await t.admin('POST', '/api/v1/tasks', task)).status).toBe(201);
    const p = await t.admin('POST', '/api/v1/tasks/peek/preview', { node_id: m.nodeId, policy: 'deb' });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body.ipxe).toContain('echo user=opsadmin sealed= hash=[redacted]\n');
    expect(p.text).not.toContain('ccs1');
    expect(p.text).not.toContain('$6$');
    const debian = await t.admin('POST', '/api/v1/tasks/debian/preview', { node_id: m.nodeId, policy: 'deb' });
    expect(debian.body.files['preseed.cfg']).toContain('d-i passwd/root-password-crypted password [redacted]\n');
    expect(debian.text).not.toContain(HASH);
  });
});
