/**
 * The image-deploy flow through a real appliance and the real agent task runner: bind -> the check-in
 * answer carries the job -> the agent fetches the tools overlay and streams the image from the node plane
 * onto a disk (a file here) -> progress and the outcome are reported with the agent token -> the appliance
 * says reboot -> /boot answers "local disk" -> the installed OS's callback makes the node `installed`.
 * Failures are states with their fix; reinstall is the retry; a missing callback times out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { brotliCompressSync } from 'node:zlib';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { makeSampleDisk } from './harness/sample-disk.ts';
import { tmpDir } from './harness/tools.ts';
import { runTask } from '../../agent/tasks/run-task.ts';
import { bootHooks } from '../../server/nodes/boot-hooks-impl.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import type { AgentLogger } from '../../agent/loop/logger.ts';
import type { DeployJob, NodeTask } from '../../contract/agent-tasks.ts';
// @ts-expect-error plain ESM build script without types
import { writeCpio } from '../../build/microkernel/cpio.mjs';

const work = tmpDir('deploy-flow');
const raw = path.join(work, 'sample.raw');
const mkDir = path.join(work, 'mk');
let t: TestAppliance;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const quiet: AgentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as AgentLogger;

beforeAll(async () => {
  makeSampleDisk(raw, path.join(work, 'mkdisk'), { table: 'gpt', bootCode: true, esp: true, root: 'ext4', cloudInit: true });
  // A served microkernel with a tools overlay (one marker file; the test machine has zstd and debugfs itself).
  fs.mkdirSync(mkDir, { recursive: true });
  fs.writeFileSync(path.join(mkDir, 'vmlinuz'), 'kernel');
  fs.writeFileSync(path.join(mkDir, 'initrd.img'), 'initrd');
  const tools = brotliCompressSync(
    writeCpio([{ path: 'usr/share/cc-tools-marker', type: 'file', mode: 0o644, data: Buffer.from('ok') }], 0) as Buffer,
  );
  fs.writeFileSync(path.join(mkDir, 'tools.img'), tools);
  fs.writeFileSync(
    path.join(mkDir, 'manifest.json'),
    JSON.stringify({ version: 'test', tools: { bytes: tools.length, sha256: sha(tools) } }),
  );
  t = await startTestAppliance({ microkernelDir: mkDir }, { settings: { checkin_interval_s: 1, checkin_skew_s: 0 } });
  const res = await fetch(`${t.adminUrl}/api/v1/images/sample/disk`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${t.token}` },
    body: Readable.toWeb(fs.createReadStream(raw)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  expect(res.status).toBe(200);
  const p = await t.admin('POST', '/api/v1/policies', {
    name: 'deploy',
    task: 'image-deploy',
    image: 'sample',
    hostname_template: 'web-${id}',
    ssh_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2wvBZZrdpnTgrnjd74QAoPX+Flcy1t953bsehEXVV6 op@example'],
  });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
}, 120_000);
afterAll(async () => {
  await t.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function boundNode(mac: string): Promise<ProtocolNode> {
  const n = new ProtocolNode(t, [mac], { manufacturer: 'QEMU' });
  await n.boot();
  expect((await n.register()).status).toBe(200);
  expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId], policy: 'deploy' })).status).toBe(200);
  return n;
}

const nodeRecord = async (n: ProtocolNode) => (await t.admin('GET', `/api/v1/nodes/${n.nodeId}`)).body;

describe('image-deploy through the appliance', () => {
  it('hands out the job, takes the written disk, sends the node to its disk and ends installed on the callback', async () => {
    const n = await boundNode('52:54:00:de:00:01');
    // A bound microkernel node's boot is still the microkernel (the agent does the work), not an installer.
    expect(await n.boot()).toContain('/mk/vmlinuz');
    // UEFI firmware is offered the appliance's default iPXE build while the node is in the microkernel.
    const efiLoader = async () => (await bootHooks(t.app.ctx).loaderPrefsFor('52:54:00:de:00:01')).efiLoader;
    expect(await efiLoader()).toBe('ipxe.efi');
    const c = await n.checkin(true);
    expect(c.body.command).toBe('run-task');
    const job = c.body.job as DeployJob;
    expect(job).toMatchObject({ kind: 'image-deploy', image: { name: 'sample', url: '/images/sample/disk.raw.zst', compression: 'zstd' } });
    expect(job.seed?.meta_data).toContain(`"local-hostname": "web-${n.nodeId}"`);
    expect((await nodeRecord(n)).state).toBe('installing');

    const disk = path.join(work, 'disk-a');
    fs.writeFileSync(disk, '');
    fs.truncateSync(disk, job.image.size + (8 << 20));
    const toolsRoot = path.join(work, 'root-a');
    fs.mkdirSync(toolsRoot);
    const next = await runTask(
      job,
      { node_id: n.nodeId, agent_token: n.agentToken },
      {
        client: new ApplianceClient(t.nodeUrl),
        log: quiet,
        toolsRoot,
        disks: () => [{ name: 'vda', path: disk, size: job.image.size + (8 << 20) }],
        progressIntervalMs: 0,
      },
    );
    expect(next).toBe('reboot');
    expect(fs.readFileSync(path.join(toolsRoot, 'usr/share/cc-tools-marker'), 'utf8')).toBe('ok');
    const rec = await nodeRecord(n);
    const task = rec.task as NodeTask;
    expect(task).toMatchObject({
      task: 'image-deploy',
      status: 'written',
      result: { kind: 'image-deploy', seeded: true, resumes: 0, disk: { name: 'vda' } },
    });
    expect(task.progress).toMatchObject({ phase: 'seed', percent: 100 });
    // The seed is in the deployed root filesystem.
    const root = job.image.root_partition!;
    const meta = execFileSync('debugfs', ['-R', 'cat /var/lib/cloud/seed/nocloud/meta-data', `${disk}?offset=${root.start}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(meta).toBe(job.seed!.meta_data);

    // The reboot's PXE boot goes to the local disk, and stays there.
    const script = await n.boot();
    expect(script).toContain('boots from its local disk');
    expect(script).toContain('sanboot --no-describe --drive 0x80 || exit');
    // UEFI leaves iPXE with an error status, so the boot manager goes on to the next entry (UEFI 2.10 3.1.1),
    // from snponly.efi, which leaves the NIC to the firmware's driver and so can return (docs/deploy.md).
    expect(script).toContain('iseq ${platform} efi && exit 1 ||');
    expect(await efiLoader()).toBe('snponly.efi');
    expect(await bootHooks(t.app.ctx).tftpFileFor((await nodeRecord(n)).ip, 'ipxe.efi')).toBe('snponly.efi');
    // The installed OS calls back with the install token from the seed.
    const stage = /"(http:[^"]+stage\?token=[^"&]+)&name=installed"/.exec(job.seed!.user_data)![1]!;
    const cb = await fetch(`${stage}&name=installed`);
    expect(cb.status).toBe(200);
    const done = await nodeRecord(n);
    expect(done.state).toBe('installed');
    expect(done.task.status).toBe('succeeded');
    expect(await n.boot()).toContain('boots from its local disk');
    // A report for a finished job is told to stop.
    const late = await t.node('POST', '/api/v1/agent/task', {
      node_id: n.nodeId,
      agent_token: n.agentToken,
      job_id: job.job_id,
      status: 'running',
    });
    expect(late.body.command).toBe('stop');
    const types = (await t.admin('GET', `/api/v1/nodes/${n.nodeId}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['node.task_started', 'node.task_progress', 'node.task_written', 'node.stage']));
  }, 60_000);

  it('a disk too small is a failed state with the reason and the fix; reinstall retries with a new job', async () => {
    const n = await boundNode('52:54:00:de:00:02');
    const job = (await n.checkin(true)).body.job as DeployJob;
    const next = await runTask(
      job,
      { node_id: n.nodeId, agent_token: n.agentToken },
      {
        client: new ApplianceClient(t.nodeUrl),
        log: quiet,
        toolsRoot: null,
        disks: () => [{ name: 'sda', path: '/nonexistent', size: 1 << 20 }],
      },
    );
    expect(next).toBe('continue');
    const rec = await nodeRecord(n);
    expect(rec.state).toBe('error');
    expect(rec.task.failure).toMatchObject({ code: 'no-fitting-disk', message: expect.stringMatching(/no disk holds the image/) });
    expect(rec.task.failure.fix).toMatch(/root_device/);
    // No new job while failed; the retry is reinstall.
    expect((await n.checkin()).body.command).not.toBe('run-task');
    expect((await t.admin('POST', '/api/v1/nodes/reinstall', { node_ids: [n.nodeId] })).status).toBe(200);
    const again = await n.checkin();
    expect(again.body.command).toBe('run-task');
    expect(again.body.job.job_id).not.toBe(job.job_id);
  }, 60_000);

  it('refuses task reports without the node\u2019s agent token', async () => {
    const n = await boundNode('52:54:00:de:00:03');
    const job = (await n.checkin(true)).body.job as DeployJob;
    const r = await t.node('POST', '/api/v1/agent/task', {
      node_id: n.nodeId,
      agent_token: 'x'.repeat(40),
      job_id: job.job_id,
      status: 'succeeded',
    });
    expect(r.status).toBe(403);
    expect((await nodeRecord(n)).task.status).toBe('running');
  });

  it('a written deploy whose OS never calls back fails with no-callback after deploy_callback_timeout_s', async () => {
    expect((await t.admin('PATCH', '/api/v1/settings', { deploy_callback_timeout_s: 60 })).status).toBe(200);
    const n = await boundNode('52:54:00:de:00:04');
    const job = (await n.checkin(true)).body.job as DeployJob;
    const r = await t.node('POST', '/api/v1/agent/task', {
      node_id: n.nodeId,
      agent_token: n.agentToken,
      job_id: job.job_id,
      status: 'succeeded',
    });
    expect(r.body.command).toBe('reboot');
    const { sweepDeployCallbacks } = await import('../../server/deploy/task-flow.ts');
    const ctx = t.app.ctx;
    const realNow = ctx.now;
    ctx.now = () => new Date(Date.now() + 61_000);
    try {
      expect(await sweepDeployCallbacks(ctx)).toBe(1);
    } finally {
      ctx.now = realNow;
    }
    const rec = await nodeRecord(n);
    expect(rec.state).toBe('error');
    expect(rec.task.failure.code).toBe('no-callback');
  });
});

describe('the deploy seed carries the node\u2019s static address', () => {
  // Full DHCP on loopback: the reservation service checks addresses against this subnet, and the boot and
  // registration come from the reserved address (enrolment tokens work only from a node's own address).
  let f: TestAppliance;
  const reserved = '127.0.0.55';
  beforeAll(async () => {
    f = await startTestAppliance(
      {
        microkernelDir: mkDir,
        dhcp: 'full',
        address: { ip: '127.0.0.1', prefix: 8 },
        range: { start: '127.0.0.30', end: '127.0.0.90' },
        dhcpOptions: [{ code: 6, type: 'ips', value: '127.0.0.53,127.0.0.54' }],
      },
      { settings: { checkin_interval_s: 1, checkin_skew_s: 0 } },
    );
    const res = await fetch(`${f.adminUrl}/api/v1/images/sample/disk`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${f.token}` },
      body: Readable.toWeb(fs.createReadStream(raw)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect((await f.admin('POST', '/api/v1/policies', { name: 'deploy', task: 'image-deploy', image: 'sample' })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  /** The appliance as seen from `ip` (node-plane requests from that address). */
  const from = (ip: string): TestAppliance => ({
    ...f,
    node: async (method, url, body) => {
      const res = await f.app.network.nodePlane!.inject({
        method: method as 'GET',
        url,
        remoteAddress: ip,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) }),
      });
      let parsed: unknown = res.body;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        /* text */
      }
      return { status: res.statusCode, body: parsed, text: res.body, headers: res.headers };
    },
  });

  async function deployed(mac: string, ip: string): Promise<{ job: DeployJob; disk: string }> {
    const n = new ProtocolNode(from(ip), [mac], { manufacturer: 'QEMU' });
    await n.boot();
    const reg = await n.register();
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    expect((await f.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId], policy: 'deploy' })).status).toBe(200);
    const job = (await n.checkin(true)).body.job as DeployJob;
    expect(job?.kind).toBe('image-deploy');
    const disk = path.join(work, `disk-${mac.replaceAll(':', '')}`);
    fs.writeFileSync(disk, '');
    fs.truncateSync(disk, job.image.size + (8 << 20));
    const next = await runTask(
      job,
      { node_id: n.nodeId, agent_token: n.agentToken },
      {
        client: new ApplianceClient(f.nodeUrl),
        log: quiet,
        toolsRoot: null,
        disks: () => [{ name: 'vda', path: disk, size: job.image.size + (8 << 20) }],
        progressIntervalMs: 0,
      },
    );
    expect(next).toBe('reboot');
    return { job, disk };
  }

  /** network-config as the deployed root filesystem holds it. */
  const writtenNetworkConfig = (job: DeployJob, disk: string): unknown =>
    JSON.parse(
      execFileSync(
        'debugfs',
        ['-R', 'cat /var/lib/cloud/seed/nocloud/network-config', `${disk}?offset=${job.image.root_partition!.start}`],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      ),
    );

  it('a node with a DHCP reservation gets that address, the pool\u2019s prefix, gateway and DNS on its boot NIC', async () => {
    const mac = '52:54:00:de:01:01';
    expect((await f.admin('PUT', `/api/v1/reservations/${mac}`, { ip: reserved })).status).toBe(200);
    const { job, disk } = await deployed(mac, reserved);
    const expected = {
      version: 2,
      ethernets: {
        boot0: {
          match: { macaddress: mac },
          'set-name': 'boot0',
          dhcp4: false,
          addresses: [`${reserved}/8`],
          // No option 3 configured: the appliance, on its own subnet, is the router DHCP hands out.
          routes: [{ to: '0.0.0.0/0', via: '127.0.0.1' }],
          nameservers: { addresses: ['127.0.0.53', '127.0.0.54'] },
        },
      },
    };
    expect(JSON.parse(job.seed!.network_config)).toEqual(expected);
    expect(writtenNetworkConfig(job, disk)).toEqual(expected);
  }, 60_000);

  it('a node without one stays on DHCP', async () => {
    const mac = '52:54:00:de:01:02';
    // A dynamic lease, as the DHCP server records one: the node boots and registers from that address.
    const now = Date.now();
    await f.app.ctx.store.leases.put(
      {
        _id: mac,
        mac,
        ip: '127.0.0.31',
        state: 'bound',
        expires_at: now + 3_600_000,
        pool: 'main',
        hostname: null,
        client_id: null,
        updated_at: now,
      },
      { durable: true },
    );
    const { job, disk } = await deployed(mac, '127.0.0.31');
    const expected = { version: 2, ethernets: { boot0: { match: { macaddress: mac }, 'set-name': 'boot0', dhcp4: true } } };
    expect(JSON.parse(job.seed!.network_config)).toEqual(expected);
    expect(writtenNetworkConfig(job, disk)).toEqual(expected);
  }, 60_000);
});
