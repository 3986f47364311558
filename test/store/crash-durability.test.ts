/**
 * Kill the appliance with SIGKILL in the middle of a burst of registrations;
 * after a restart every acknowledged registration must be there and the store
 * must load (a torn last line is cut, never half-read).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, tmpDir, startTestAppliance } from '../helpers/appliance.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function waitHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

describe('store durability', () => {
  it('keeps every acknowledged registration across SIGKILL', async () => {
    const dataDir = await tmpDir('cc-crash-');
    // Start the appliance; retry on fresh ports if it dies before it is up (another test may have taken a
    // port between freePort() and the child's bind). "Up" means OUR child printed its UI line.
    const launch = async () => {
      const http = await freePort();
      const admin = await freePort();
      const args = ['serve', '--data-dir', dataDir, '--lab', 'off', '--http-port', String(http), '--admin-listen', `127.0.0.1:${admin}`];
      const child = spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), ...args, '--rate-limit', '0', '--log-level', 'error'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const exited = new Promise((r) => child.once('exit', r));
      const up = await new Promise<boolean>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Crashcart UI:')) resolve(true);
        });
        void exited.then(() => resolve(false));
        setTimeout(() => resolve(false), 30000);
      });
      return { child, exited, up, base: `http://127.0.0.1:${http}`, admin: `http://127.0.0.1:${admin}`, stderr: () => stderr };
    };
    let run = await launch();
    for (let attempt = 1; !run.up && attempt < 3; attempt++) run = await launch();
    expect(run.up, run.stderr()).toBe(true);
    const { child, exited, base } = run;
    await waitHttp(`${base}/health`, 30000);
    // Eight workers on one loopback address make hundreds of machines a minute: lift the per-source limits explicitly.
    const lifted = await fetch(`${run.admin}/api/v1/settings`, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${(await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim()}`,
      },
      body: JSON.stringify({ node_create_per_source_per_min: 0, node_events_per_source_per_min: 0, facts_bytes_per_source_per_min: 0 }),
    });
    expect(lifted.status).toBe(200);

    const acked: { node_id: number; mac: string; serial: string }[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 10000; i++) {
        const mac = `02:cc:${w.toString(16).padStart(2, '0')}:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
        const serial = `KILL-${w}-${i}`;
        try {
          const boot = await (await fetch(`${base}/boot?mac=${mac}&serial=${serial}`)).text();
          const token = /crashcart\.token=(\S+)/.exec(boot)?.[1];
          const node = Number(/crashcart\.node=(\d+)/.exec(boot)?.[1]);
          const r = await fetch(`${base}/api/v1/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              hw_id: mac,
              node_id: node,
              macs: [mac],
              serial,
              token,
              facts: { serialnumber: serial, n: i, blob: 'x'.repeat(2000) },
            }),
          });
          if (r.status === 200) acked.push({ node_id: ((await r.json()) as { node_id: number }).node_id, mac, serial });
        } catch {
          return; // the server died under us: that request was never acknowledged
        }
      }
    };
    let finished = 0;
    const workers = Array.from({ length: 8 }, (_, w) => worker(w).finally(() => finished++));
    const until = Date.now() + 40000;
    while (acked.length < 150 && finished < 8 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited;
    // The appliance must have died from our SIGKILL, not by itself.
    expect({ signal: child.signalCode, stderr: child.signalCode === 'SIGKILL' ? '' : run.stderr() }).toEqual({
      signal: 'SIGKILL',
      stderr: '',
    });
    expect(acked.length).toBeGreaterThanOrEqual(150);

    const t = await startTestAppliance({ dataDir });
    try {
      const nodes = (await t.admin('GET', '/api/v1/nodes?limit=100000')).body.nodes as {
        id: number;
        serial: string;
        macs: string[];
        state: string;
      }[];
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const missing = acked.filter((a) => {
        const n = byId.get(a.node_id);
        return !n || n.serial !== a.serial || !n.macs.includes(a.mac) || n.state !== 'registered';
      });
      expect(missing).toEqual([]);
      for (const a of acked.slice(0, 20)) {
        const f = await t.admin('GET', `/api/v1/nodes/${a.node_id}/facts`);
        expect(f.body.facts.serialnumber).toBe(a.serial);
      }
      // Every datafile ends with a complete line.
      for (const f of await fs.readdir(path.join(dataDir, 'db'))) {
        const b = await fs.readFile(path.join(dataDir, 'db', f));
        if (b.length) expect(b[b.length - 1]).toBe(0x0a);
      }
    } finally {
      await t.stop();
    }
  });
});
