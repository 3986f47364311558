/**
 * A node's facts are the rack's bytes: a value or key holding the line breaks nedb's reader splits on
 * besides "\n" (NEL U+0085, LS U+2028, PS U+2029; JSON.stringify leaves them raw) used to break the facts
 * line in two corrupt halves, and the appliance refused to start on its own data dir after a restart
 * (CC_ERR_STORE_CORRUPT: past nedb's 10% of corrupt lines).
 * The real binary, real HTTP, a real SIGKILL and a restart on the same data dir.
 */
import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';
import { Datastore } from '../../server/store/nedb.ts';

const procs: ProcessAppliance[] = [];
afterAll(() => Promise.all(procs.map((p) => p.stop())));

describe('facts with the line breaks nedb splits on', () => {
  it('are stored, acknowledged and read back whole after SIGKILL and a restart', async () => {
    const dataDir = await tmpDir('cc-sec-lines-');
    const a = await spawnAppliance(['--log-level', 'error'], { dataDir });
    procs.push(a);
    const mac = '52:54:00:e2:00:01';
    const token = /crashcart\.token=(\S+)/.exec(await (await fetch(`${a.nodeUrl}/boot?mac=${mac}`)).text())![1]!;
    const facts = { 'evil\u2028key': 'x\u2028{"_id":"1","$$deleted":true}\u2029y', 'eth0.100\u0085': 'a\u0085b', $where: 'return true' };
    const r = await fetch(`${a.nodeUrl}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hw_id: mac, macs: [mac], token, facts }),
    });
    expect(r.status).toBe(200);
    const { node_id } = (await r.json()) as { node_id: number };
    const gone = new Promise((done) => a.child.once('exit', done));
    a.child.kill('SIGKILL');
    await gone;

    const b = await spawnAppliance(['--log-level', 'error'], { dataDir });
    procs.push(b);
    const res = await fetch(`${b.adminUrl}/api/v1/nodes/${node_id}/facts`, { headers: { authorization: `Bearer ${await b.token()}` } });
    expect(res.status).toBe(200);
    await b.stop();
    // What the appliance keeps, read with plain nedb: the facts document whole, every character as sent.
    const ds = new Datastore<{ _id: string; facts: string }>({ filename: path.join(dataDir, 'db', 'facts.db'), timestampData: false });
    await ds.loadDatabaseAsync();
    const doc = await ds.findOneAsync({ _id: String(node_id) });
    expect(JSON.parse(doc!.facts)).toEqual(facts);
  });
});
