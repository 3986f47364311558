/**
 * Kill the appliance with SIGKILL in the middle of a burst of registrations
 * and DHCP leases, while `crashcart image import` runs beside it on the same
 * data dir (issue 10 §4: the CLI used to rewrite the store under the server).
 * After a restart every acknowledged registration, lease and import must be
 * there and the store must load (a torn last line is cut, never half-read).
 * The appliance and the rack live in two namespaces joined by a veth.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { spawnAppliance, standInMicrokernel, startInProcess, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const lab = new Lab('store', 'crash');
beforeAll(() => {
  lab.addNs('srv');
  lab.addNs('rack');
  lab.plug('srv', 'eth0', '10.77.0.1/22', { peerNs: 'rack', peerIf: 'eth0', peerCidr: '10.77.0.2/22' });
});
afterAll(() => lab.cleanup());

interface Reg {
  node_id: number;
  mac: string;
  serial: string;
}

/** `crashcart image import` in the appliance's namespace, over and over; resolves the names it was told succeeded. */
function importLoop(dataDir: string, files: string, stop: () => boolean, running: ChildProcess[]): Promise<string[]> {
  const acked: string[] = [];
  const once = (n: number) =>
    new Promise<void>((resolve) => {
      const c = spawn('ip', ['netns', 'exec', lab.ns('srv'), process.execPath, path.join(REPO_ROOT, 'bin', 'crashcart.mjs'),
        'image', 'import', '--data-dir', dataDir, '--name', `img${n}`, '--kernel', path.join(files, 'linux'), '--initrd', path.join(files, 'initrd.gz')],
        { stdio: ['ignore', 'pipe', 'pipe'] }); // prettier-ignore
      running.push(c);
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', (code) => {
        if (code === 0 && out.includes('importing through') && out.includes(`image img${n}:`)) acked.push(`img${n}`);
        resolve();
      });
    });
  return (async () => {
    for (let n = 0; !stop(); n++) await once(n);
    return acked;
  })();
}

describe('store durability', () => {
  it('keeps every acknowledged registration, lease and import across SIGKILL', async () => {
    const dataDir = await tmpDir('cc-crash-');
    const files = await tmpDir('cc-crash-files-');
    await fs.writeFile(path.join(files, 'linux'), Buffer.alloc(3 << 20, 1));
    await fs.writeFile(path.join(files, 'initrd.gz'), Buffer.alloc(1 << 20, 2));
    const a: ProcessAppliance = await spawnAppliance(
      [
        ...['--iface', 'eth0', '--dhcp', 'full', '--range', '10.77.0.10-10.77.3.250', '--force', '--log-level', 'error'],
        // serve refuses full mode without a microkernel (issue 12); no guest boots here.
        ...['--microkernel', await standInMicrokernel(dataDir)],
      ],
      { dataDir, netns: lab.ns('srv') },
    );
    const exited = new Promise((r) => a.child.once('exit', r));
    // Eight workers on one address make hundreds of machines a minute: lift the per-source limits explicitly.
    // The admin plane listens on the namespace's loopback, so the request is made from inside it (curl).
    const lifted = execFileSync('ip', ['netns', 'exec', lab.ns('srv'), 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}',
      '-X', 'PATCH', '-H', 'content-type: application/json', '-H', `authorization: Bearer ${await a.token()}`,
      '--data', JSON.stringify({ node_create_per_source_per_min: 0, node_events_per_source_per_min: 0, facts_bytes_per_source_per_min: 0 }),
      `${a.adminUrl}/api/v1/settings`], { encoding: 'utf8' }); // prettier-ignore
    expect(lifted).toBe('200');

    const rack = lab.spawnIn('rack', process.execPath, [
      path.join(REPO_ROOT, 'bin', 'run-ts.mjs'),
      path.join(REPO_ROOT, 'test', 'store', 'burst-client.ts'),
      JSON.stringify({ nodeUrl: a.nodeUrl, iface: 'eth0', registrars: 6, dhcpChains: 4, prefix: 22 }),
    ]);
    const regs: Reg[] = [];
    const leases = new Map<string, string>();
    let rackErr = '';
    // sockopt's use of Socket._handle draws a deprecation warning; anything else on stderr is a failure.
    rack.stderr!.on(
      'data',
      (d: Buffer) => (rackErr = (rackErr + d.toString().replace(/.*(DEP0112|--trace-deprecation).*\n/g, '')).slice(-4000)),
    );
    readline.createInterface({ input: rack.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as { t: string } & Reg & { ip: string };
      if (m.t === 'reg') regs.push(m);
      if (m.t === 'lease') leases.set(m.mac, m.ip);
    });

    let stop = false;
    const cli: ChildProcess[] = [];
    const imports = importLoop(dataDir, files, () => stop, cli);
    // Kill once enough was acknowledged and an import is under way beside the writes.
    const until = Date.now() + 120_000;
    const importing = () => cli.some((c) => c.exitCode === null) && cli.length >= 2;
    while (!(regs.length >= 150 && leases.size >= 60 && importing()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    console.log(`[crash] SIGKILL after ${regs.length} registrations, ${leases.size} leases, ${cli.length} imports started`);
    a.child.kill('SIGKILL');
    stop = true;
    await exited;
    rack.kill('SIGKILL');
    const ackedImports = await imports;
    // The appliance must have died from our SIGKILL, not by itself.
    expect({ signal: a.child.signalCode, out: a.child.signalCode === 'SIGKILL' ? '' : a.output() }).toEqual({ signal: 'SIGKILL', out: '' });
    expect({ regs: regs.length >= 150, leases: leases.size >= 60, imports: ackedImports.length >= 1, rackErr }).toEqual({
      regs: true,
      leases: true,
      imports: true,
      rackErr: '',
    });

    const t = await startInProcess(['--data-dir', dataDir]);
    try {
      const nodes = new Map(t.app.ctx.repo.all().map((n) => [n.id, n]));
      const lost = regs.filter((r) => {
        const n = nodes.get(r.node_id);
        return !n || n.serial !== r.serial || !n.macs.includes(r.mac) || n.state !== 'registered';
      });
      expect(lost).toEqual([]);
      for (const r of regs.slice(0, 20))
        expect((await t.app.store.facts.findOne({ _id: String(r.node_id) }))?.facts.serialnumber).toBe(r.serial);
      const stored = new Map((await t.app.store.leases.find()).map((l) => [l.mac, l]));
      const lostLeases = [...leases].filter(([mac, ip]) => stored.get(mac)?.ip !== ip || stored.get(mac)?.state !== 'bound');
      expect(lostLeases).toEqual([]);
      const images = (await t.app.store.images.find()).map((i) => i.name);
      expect(images).toEqual(expect.arrayContaining(ackedImports));
      // Every datafile ends with a complete line.
      for (const f of await fs.readdir(path.join(dataDir, 'db'))) {
        const b = await fs.readFile(path.join(dataDir, 'db', f));
        if (b.length) expect(b[b.length - 1]).toBe(0x0a);
      }
    } finally {
      await t.stop();
      for (const c of cli) if (c.exitCode === null) c.kill('SIGKILL');
    }
  }, 240_000);
});
