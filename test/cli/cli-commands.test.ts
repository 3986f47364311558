/**
 * `crashcart <noun> <verb>` end to end: the real binary against a real
 * `crashcart serve` process, asserting on what it prints, its exit code and the
 * state change the appliance reports afterwards.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { BIN, cli, json, registerMachine } from './cli-kit.ts';
import type { Node, Policy } from '../../contract/index.ts';

let a: ProcessAppliance;
let ids: number[];
const on = (...args: string[]) => cli([...args, '--data-dir', a.dataDir]);

beforeAll(async () => {
  a = await spawnAppliance();
  ids = [await registerMachine(a.nodeUrl, '52:54:00:15:00:01'), await registerMachine(a.nodeUrl, '52:54:00:15:00:02')];
}, 120_000);
afterAll(() => a?.stop());

// Each CLI run starts a Node process through tsx: seconds each on a loaded machine, so tests get room (not a timing assertion).
describe('crashcart CLI against a running appliance', { timeout: 600_000 }, () => {
  it('says how to start an appliance when none runs, with a catalog code and a non-zero exit', async () => {
    const empty = await tmpDir('cc-cli-none-');
    const r = await cli(['nodes', 'list', '--data-dir', empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CC_ERR_NOT_RUNNING');
    expect(r.stderr).toContain('crashcart serve --iface');
    expect(r.stdout).toBe('');
  });

  it('lists the nouns and, per noun, its verbs with the route each calls', async () => {
    const top = await cli(['help']);
    expect(top.status).toBe(0);
    for (const noun of ['nodes', 'policies', 'tags', 'tasks', 'images', 'events', 'export']) expect(top.stdout).toContain(noun);
    const nodes = await cli(['help', 'nodes']);
    for (const verb of ['list', 'show', 'bind', 'unbind', 'reinstall', 'reboot', 'forget'])
      expect(nodes.stdout).toMatch(new RegExp(`nodes ${verb} `));
    expect(nodes.stdout).toContain('(POST /api/v1/nodes/bind)');
    const bad = await on('nodes', 'frobnicate');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('CC_ERR_CLI_USAGE');
    expect(bad.stderr).toContain('fix:');
  });

  it('lists nodes as a table and as JSON', async () => {
    const t = await on('nodes', 'list');
    expect(t.status).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^ID\s+HOSTNAME\s+STATE/);
    expect(t.stdout).toContain('52:54:00:15:00:01');
    expect(t.stdout).toContain('52:54:00:15:00:02');
    const j = json<{ nodes: Node[]; total: number }>(await on('nodes', 'list', '--json'));
    expect(j.total).toBe(2);
    expect(j.nodes.map((n) => n.id).sort()).toEqual([...ids].sort());
    const one = json<Node>(await on('nodes', 'show', String(ids[0]), '--json'));
    expect(one.macs).toEqual(['52:54:00:15:00:01']);
    expect((await on('nodes', 'show', '999')).stderr).toContain('CC_ERR_NOT_FOUND');
  });

  it('creates a policy from a file, binds and unbinds a node, and the node shows it', async () => {
    const dir = await tmpDir('cc-cli-file-');
    const file = path.join(dir, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'web', task: 'local-disk', enabled: true }));
    expect((await on('policies', 'create', '--file', file)).status).toBe(0);
    const listed = await on('policies', 'list');
    expect(listed.stdout).toMatch(/\bweb\s+true\s+local-disk\b/);

    const bind = await on('nodes', 'bind', String(ids[0]), '--policy', 'web');
    expect(bind.status).toBe(0);
    expect(bind.stdout).toMatch(new RegExp(`${ids[0]}\\s+true\\s+bound`));
    expect(json<Node>(await on('nodes', 'show', String(ids[0]), '--json')).policy).toBe('web');
    expect(json<Policy>(await on('policies', 'show', 'web', '--json')).bound_count).toBe(1);

    // A policy that does not exist: the node's row says why, exit 1, nothing changed.
    const bad = await on('nodes', 'bind', String(ids[1]), '--policy', 'nope');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`${ids[1]}\\s+false\\s+\\S+\\s+\\S`));
    expect(bad.stderr).toContain('1 node(s) refused');
    expect(json<Node>(await on('nodes', 'show', String(ids[1]), '--json')).policy).toBeNull();

    expect((await on('nodes', 'unbind', String(ids[0]))).status).toBe(0);
    expect(json<Node>(await on('nodes', 'show', String(ids[0]), '--json')).policy).toBeNull();

    // update replaces from the file, here YAML; the name in the path fills the body.
    const yml = path.join(dir, 'policy.yaml');
    fs.writeFileSync(yml, 'task: local-disk\nenabled: false\nmetadata:\n  role: web\n');
    expect((await on('policies', 'update', 'web', '--file', yml)).status).toBe(0);
    const updated = json<Policy>(await on('policies', 'show', 'web', '--json'));
    expect(updated.enabled).toBe(false);
    expect(updated.metadata).toEqual({ role: 'web' });
    // Bad and hostile YAML: exit 1, the place named, nothing sent (the policy is as it was).
    fs.writeFileSync(yml, 'task: local-disk\nenabled: [false\nmetadata: {}\n');
    const badYaml = await on('policies', 'update', 'web', '--file', yml);
    expect(badYaml.status).toBe(1);
    expect(badYaml.stderr).toContain('CC_ERR_CLI_USAGE');
    expect(badYaml.stderr).toMatch(/line 3, column 1: not valid YAML/);
    fs.writeFileSync(yml, 'x: &x [a, a, a]\ny: &y [*x, *x, *x]\ntask: local-disk\nenabled: true\nmetadata: {k: *y}\n');
    expect((await on('policies', 'update', 'web', '--file', yml)).stderr).toContain('anchors and aliases');
    expect(json<Policy>(await on('policies', 'show', 'web', '--json')).enabled).toBe(false);
    expect((await on('policies', 'delete', 'web')).stdout).toBe('done\n');
    expect(json<{ policies: Policy[] }>(await on('policies', 'list', '--json')).policies).toEqual([]);
  });

  it('fills bodies from flags by their schema types and refuses unknown flags', async () => {
    const made = await on('tags', 'create', '--name', 'dell', '--rule', '["=",["fact","manufacturer"],"Dell Inc."]');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/node_count:\s+2/);
    expect((await on('tags', 'list')).stdout).toMatch(/\bdell\s+2\b/);
    const unknown = await on('tags', 'create', '--name', 'x', '--colour', 'red');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('takes no --colour');
    expect((await on('nodes', 'list', '--limit', 'many')).stderr).toContain('--limit wants a number');
    expect((await on('tags', 'delete', 'dell')).status).toBe(0);
  });

  it('talks to the appliance named by CRASHCART_URL and CRASHCART_TOKEN, and says when it cannot', async () => {
    const token = await a.token();
    const ok = await cli(['nodes', 'list', '--json', '--data-dir', await tmpDir('cc-cli-env-')], {
      CRASHCART_URL: a.adminUrl,
      CRASHCART_TOKEN: token,
    });
    expect(ok.status).toBe(0);
    expect(json<{ total: number }>(ok).total).toBe(2);
    const wrong = await cli(['nodes', 'list'], { CRASHCART_URL: a.adminUrl, CRASHCART_TOKEN: 'x'.repeat(43) });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/CC_ERR_(UNAUTHORIZED|FORBIDDEN|AUTH)/);
    const gone = await cli(['nodes', 'list'], { CRASHCART_URL: 'http://127.0.0.1:1', CRASHCART_TOKEN: token });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('CC_ERR_APPLIANCE_UNREACHABLE');
    expect(gone.stderr).toContain('crashcart serve --iface');
  });

  it('forgets a node, and bulk refusals exit 1 with the reason', async () => {
    const r = await on('nodes', 'forget', String(ids[1]));
    expect(r.status).toBe(0);
    expect(json<{ total: number }>(await on('nodes', 'list', '--json')).total).toBe(1);
    const again = await on('nodes', 'forget', String(ids[1]));
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(new RegExp(`${ids[1]}\\s+false`));
    ids.pop();
  });

  it('exports through the CLI; a hostile manufacturer stays one quoted value that ansible-inventory reads back', async () => {
    const evil = 'Evil: x\n- injected\n"quoted" #c';
    const id = await registerMachine(a.nodeUrl, '52:54:00:15:00:09', { manufacturer: evil });
    const dir = await tmpDir('cc-cli-export-');
    const file = path.join(dir, 'inventory.yml');
    const r = await on('export', 'ansible', '--output', file);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`written to ${file}`);
    const env = { ...process.env, HOME: dir, ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true' };
    const inv = JSON.parse(execFileSync('ansible-inventory', ['-i', file, '--list'], { encoding: 'utf8', env })) as {
      _meta: { hostvars: Record<string, Record<string, unknown>> };
    };
    const host = Object.values(inv._meta.hostvars).find((h) => h.crashcart_id === id)!;
    expect(host.crashcart_manufacturer).toBe(evil);
    // --ids: only those nodes.
    const only = json<{ nodes: Node[] }>(await on('export', 'json', '--ids', String(id)));
    expect(only.nodes.map((n) => n.id)).toEqual([id]);
    expect(JSON.stringify(inv)).not.toContain('"injected"');
    const csv = await on('export', 'netbox', '--part', 'interfaces');
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('device,name,type,enabled,mac_address,mtu,speed,mgmt_only,description');
    expect(csv.stdout).toContain('52:54:00:15:00:09'.toUpperCase());
    const bad = await on('export', 'visio');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('CC_ERR_CLI_USAGE');
  });

  it('events --follow prints events live, each once', async () => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRASHCART_')));
    const child = spawn(process.execPath, [BIN, 'events', '--follow', '--json', '--data-dir', a.dataDir], {
      env: base,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const seen = (pred: (e: { type: string; data: Record<string, unknown>; seq: number }) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const events = out
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown>; seq: number });
          if (events.some(pred)) {
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        child.once('exit', (c) => reject(new Error(`follow exited ${c}: ${out}`)));
        check();
      });
    try {
      // The stream is open once the CLI's request reached the appliance; a tag made after that must show up.
      for (let i = 0; !out && i < 60; i++) {
        expect((await on('tags', 'create', '--name', `t${i}`, '--rule', '["=",["fact","x"],"y"]')).status).toBe(0);
        await Promise.race([seen((e) => e.type === 'tag.changed'), new Promise((r) => setTimeout(r, 3000))]);
      }
      await seen((e) => e.type === 'tag.changed');
      const seqs = out
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { seq: number }).seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('imports a rack manifest from a CSV file: the row becomes an expected node', async () => {
    const dir = await tmpDir('cc-cli-manifest-');
    const file = path.join(dir, 'rack.csv');
    fs.writeFileSync(file, 'serial,mac,hostname\r\nSER-R1,52:54:00:15:00:20,rack1-a\r\n');
    const r = await on('manifest', 'import', file, '--json');
    expect(r.status, r.stderr).toBe(0);
    const nodes = json<{ nodes: Node[] }>(await on('nodes', 'list', '--state', 'expected', '--json')).nodes;
    expect(nodes.map((n) => [n.hostname, n.serial, n.macs])).toEqual([['rack1-a', 'SER-R1', ['52:54:00:15:00:20']]]);
  });
});
