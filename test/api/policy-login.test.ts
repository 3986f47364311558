/**
 * Policies that give machines someone can log in to (issue 15): the root password is write-only and
 * stored only as a sha512-crypt hash, SSH keys are checked, each task's declared fields are validated,
 * and a policy that would install an OS nobody can log in to needs confirmation.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { sha512Crypt } from '../../server/policies/sha512-crypt.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA30HM6VskOhl4h5q4RvAF53qFUgiPvFk1bhhYmfNo0a test@crashcart';
const PASSWORD = 'Correct-Horse-7e1f-battery';

let t: TestAppliance;
let n: ProtocolNode;
let nodeId: number;
beforeAll(async () => {
  t = await startTestAppliance();
  n = new ProtocolNode(t, ['52:54:00:15:00:01'], { manufacturer: 'QEMU' });
  await n.boot();
  await n.register();
  nodeId = n.nodeId;
});
afterAll(() => t.stop());

/** Every file under a directory, as text. */
async function allText(dir: string): Promise<string> {
  let out = '';
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out += e.isDirectory() ? await allText(p) : await fs.readFile(p, 'latin1');
  }
  return out;
}

const preview = async (task: string, policy: string) =>
  (await t.admin('POST', `/api/v1/tasks/${task}/preview`, { node_id: nodeId, policy })).body as {
    ipxe: string;
    files: Record<string, string>;
  };

describe('root password', () => {
  it('is hashed on the server, never returned, never stored or logged as given', async () => {
    const r = await t.admin('POST', '/api/v1/policies', { name: 'deb-pw', task: 'debian', root_password: PASSWORD, enabled: false });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ name: 'deb-pw', root_password_set: true, unreachable: false });
    expect(JSON.stringify(r.body)).not.toContain(PASSWORD);
    expect(JSON.stringify(r.body)).not.toContain('$6$');
    const got = await t.admin('GET', '/api/v1/policies/deb-pw');
    expect(got.body.root_password_set).toBe(true);
    expect(got.body).not.toHaveProperty('root_password_hash');

    // A preview shows the line the installer reads, but never the hash (docs/tasks.md, "Preview").
    const shown = (await preview('debian', 'deb-pw')).files['preseed.cfg']!;
    expect(shown).toContain('d-i passwd/root-password-crypted password [redacted]\n');
    expect(shown).not.toContain('$6$');

    // What the installer gets, through its install token: a sha512-crypt hash that checks out against the
    // password, here and in openssl.
    const bound = await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [nodeId], policy: 'deb-pw' });
    expect(bound.body.results[0]).toMatchObject({ ok: true, state: 'bound' });
    const filesBase = /(\/api\/v1\/nodes\/\d+\/)stage\?token=([A-Za-z0-9_-]+)/.exec(await n.boot())!;
    const served = await t.node('GET', `${filesBase[1]}files/${filesBase[2]}/preseed.cfg`);
    expect(served.status).toBe(200);
    expect((await t.admin('POST', '/api/v1/nodes/unbind', { node_ids: [nodeId] })).body.results[0]).toMatchObject({ ok: true });
    const preseed = served.text;
    const hash = /root-password-crypted password (\S+)/.exec(preseed)![1]!;
    expect(hash).toMatch(/^\$6\$rounds=5000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(sha512Crypt(PASSWORD, hash)).toBe(hash);
    const salt = hash.split('$')[3]!;
    const openssl = execFileSync('openssl', ['passwd', '-6', '-salt', `rounds=5000$${salt}`, '-stdin'], { input: PASSWORD })
      .toString()
      .trim();
    expect(openssl).toBe(hash);

    // Nothing on disk or in the event log holds the password itself.
    await t.app.ctx.store.compactAll();
    expect(await allText(t.dataDir)).not.toContain(PASSWORD);
    const events = (await t.admin('GET', '/api/v1/events?limit=10000')).body;
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('keeps the hash when an update leaves the password out, and removes it with root_password_hash: null', async () => {
    const up = await t.admin('PUT', '/api/v1/policies/deb-pw', { name: 'deb-pw', task: 'debian', enabled: false, ssh_keys: [KEY] });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ root_password_set: true, ssh_keys: [KEY] });
    const off = await t.admin('PUT', '/api/v1/policies/deb-pw', { name: 'deb-pw', task: 'debian', root_password_hash: null });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ root_password_set: false, unreachable: false });
    expect((await preview('debian', 'deb-pw')).files['preseed.cfg']).toContain('root-password-crypted password !');
  });

  it('accepts a ready crypt hash and refuses anything else, naming the fix', async () => {
    const good = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
    expect((await t.admin('POST', '/api/v1/policies', { name: 'deb-hash', task: 'debian', root_password_hash: good })).status).toBe(201);
    for (const bad of ['$6$salt$hash', 'plaintext', `${good}\nd-i preseed/late_command string reboot`]) {
      const r = await t.admin('POST', '/api/v1/policies', { name: 'deb-bad', task: 'debian', root_password_hash: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.code).toBe('CC_ERR_POLICY_INVALID');
      expect(r.body.message).toContain('crypt(3)');
    }
    const both = await t.admin('POST', '/api/v1/policies', {
      name: 'deb-bad',
      task: 'debian',
      root_password: 'x',
      root_password_hash: good,
    });
    expect(both.body.message).toContain('not both');
    expect((await t.admin('POST', '/api/v1/policies', { name: 'deb-bad', task: 'debian', root_password: '' })).status).toBe(400);
    expect((await t.admin('GET', '/api/v1/policies/deb-bad')).status).toBe(404);
  });
});

describe('SSH keys', () => {
  it('are checked one by one, normalised and de-duplicated; the installer writes them', async () => {
    const bad = await t.admin('POST', '/api/v1/policies', { name: 'deb-keys', task: 'debian', ssh_keys: [KEY, 'ssh-rsa AAAAnotbase64!'] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('ssh_keys[1]');
    const messy = KEY.replace(/ /g, '   ');
    const ok = await t.admin('POST', '/api/v1/policies', { name: 'deb-keys', task: 'debian', ssh_keys: [messy, KEY] });
    expect(ok.status).toBe(201);
    expect(ok.body.ssh_keys).toEqual([KEY]);
    expect((await preview('debian', 'deb-keys')).files['preseed.cfg']).toContain(`echo '${KEY}' >> /target/root/.ssh/authorized_keys`);
  });
});

describe('a policy nobody could log in to', () => {
  it('is refused with 409 and the fix, unless confirmed; the view says it', async () => {
    const r = await t.admin('POST', '/api/v1/policies', { name: 'deb-locked', task: 'debian', enabled: false });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('CC_ERR_POLICY_UNREACHABLE');
    expect(r.body.fix).toContain('confirm_unreachable');
    expect((await t.admin('GET', '/api/v1/policies/deb-locked')).status).toBe(404);
    const c = await t.admin('POST', '/api/v1/policies', { name: 'deb-locked', task: 'debian', enabled: false, confirm_unreachable: true });
    expect(c.status).toBe(201);
    expect(c.body.unreachable).toBe(true);
    // Removing the last key of a reachable policy is a save that asks too.
    const again = await t.admin('PUT', '/api/v1/policies/deb-keys', { name: 'deb-keys', task: 'debian', ssh_keys: [] });
    expect(again.status).toBe(409);
  });

  it('is not asked for tasks that install nothing to log in to', async () => {
    expect((await t.admin('POST', '/api/v1/policies', { name: 'disk', task: 'local-disk', enabled: false })).status).toBe(201);
  });
});

describe('task fields', () => {
  it('are declared by the tasks', async () => {
    const tasks = (await t.admin('GET', '/api/v1/tasks')).body.tasks as {
      name: string;
      fields: { key: string; required: boolean }[];
      login: boolean;
    }[];
    const by = Object.fromEntries(tasks.map((x) => [x.name, x]));
    expect(by.rocky!.fields).toEqual([expect.objectContaining({ key: 'repo_url', kind: 'url', required: true })]);
    expect(by.alma!.fields.map((f) => f.key)).toEqual(['repo_url']);
    expect(by['custom-ipxe']!.fields).toEqual([expect.objectContaining({ key: 'ipxe', kind: 'script', required: true })]);
    expect(by.debian!.login).toBe(true);
    expect(by['local-disk']!.login).toBe(false);
  });

  it('rocky needs a repository URL; the kickstart carries it and the key', async () => {
    const none = await t.admin('POST', '/api/v1/policies', { name: 'rocky9', task: 'rocky', ssh_keys: [KEY] });
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('Repository URL');
    const bad = await t.admin('POST', '/api/v1/policies', {
      name: 'rocky9',
      task: 'rocky',
      ssh_keys: [KEY],
      metadata: { repo_url: 'not a url' },
    });
    expect(bad.status).toBe(400);
    const url = 'http://10.20.0.1/rocky/9/BaseOS/x86_64/os/';
    const ok = await t.admin('POST', '/api/v1/policies', { name: 'rocky9', task: 'rocky', ssh_keys: [KEY], metadata: { repo_url: url } });
    expect(ok.status).toBe(201);
    const r = await preview('rocky', 'rocky9');
    expect(r.ipxe).toContain(`inst.repo=${url}`);
    expect(r.files['ks.cfg']).toContain(`url --url=${url}`);
    expect(r.files['ks.cfg']).toContain(`sshkey --username=root "${KEY}"`);
  });

  it('custom-ipxe needs its script, and the script must be a valid template', async () => {
    expect((await t.admin('POST', '/api/v1/policies', { name: 'chain', task: 'custom-ipxe' })).status).toBe(400);
    const broken = await t.admin('POST', '/api/v1/policies', {
      name: 'chain',
      task: 'custom-ipxe',
      metadata: { ipxe: '{{#if x}}chain a' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toContain('never closed');
    const ok = await t.admin('POST', '/api/v1/policies', {
      name: 'chain',
      task: 'custom-ipxe',
      metadata: { ipxe: 'chain http://10.0.0.9/boot.ipxe?node={{node.id}}' },
    });
    expect(ok.status).toBe(201);
    expect((await preview('custom-ipxe', 'chain')).ipxe).toContain(`chain http://10.0.0.9/boot.ipxe?node=${nodeId}`);
  });

  it('user tasks declare fields too, and a duplicate key is refused', async () => {
    const task = {
      name: 'my-os',
      ipxe: '#!ipxe\nchain {{policy.metadata.url}}\n',
      login: true,
      fields: [{ key: 'url', label: 'Boot URL', kind: 'url', required: true }],
    };
    expect((await t.admin('POST', '/api/v1/tasks', task)).status).toBe(201);
    expect((await t.admin('POST', '/api/v1/tasks', { ...task, name: 'my-os2', fields: [task.fields[0], task.fields[0]] })).status).toBe(
      400,
    );
    expect((await t.admin('POST', '/api/v1/policies', { name: 'mine', task: 'my-os', ssh_keys: [KEY] })).body.message).toContain(
      'Boot URL',
    );
    expect((await t.admin('POST', '/api/v1/policies', { name: 'mine', task: 'my-os', metadata: { url: 'http://x/' } })).status).toBe(409);
  });
});

describe('root device hints (policy metadata root_device)', () => {
  const policy = (root_device: unknown) =>
    t.admin('POST', '/api/v1/policies', { name: 'hints', task: 'local-disk', enabled: false, metadata: { root_device } });

  it('are checked when the policy is saved, naming the hint and the fix', async () => {
    for (const [bad, says] of [
      [{ by_path: '/dev/disk/by-path/pci-0000:00:1f.2-ata-1' }, 'by_path is not a root device hint here'],
      [{ size: 'big' }, 'metadata.root_device.size'],
      [{ rotational: 'yes' }, 'metadata.root_device.rotational'],
      [{ serial: '' }, 'metadata.root_device.serial'],
      ['sda', 'must be an object of hints'],
      [['sda'], 'must be an object of hints'],
    ] as const) {
      const r = await policy(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.code).toBe('CC_ERR_POLICY_INVALID');
      expect(r.body.message).toContain(says);
      expect(r.body.fix).toContain('docs/deploy.md');
    }
    expect((await t.admin('GET', '/api/v1/policies/hints')).status).toBe(404);
  });

  it("Ironic's hints, the WWN halves and the SCSI address among them, are kept as given", async () => {
    const hints = {
      size: '>= 100',
      serial: 'S3Z9NB0K123456A',
      wwn: '0x6001405f3b2c1d0e',
      wwn_with_extension: '0x6001405f3b2c1d0e6001405f3b2c1d0e',
      wwn_vendor_extension: '0x6001405f3b2c1d0e',
      hctl: '0:0:0:0',
      rotational: false,
    };
    const r = await policy(hints);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect((await t.admin('GET', '/api/v1/policies/hints')).body.metadata.root_device).toEqual(hints);
  });
});
