/**
 * Merging two node records keeps the BMC (docs/identity.md 1): the password is sealed for the record it
 * belongs to, so the BMC of `from` is sealed again for `into` when `into` has none, and still opens there
 * (read back through the export with secrets, which opens it). When both have one, `into` keeps its own
 * and the merge's event says that `from`'s was dropped. All through the admin API.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import { SecretBox } from '../../server/secrets/secret-box.ts';
import { bmcPasswordRecord } from '../../server/bmc/bmc-record.ts';
import { mergeBmc } from '../../server/nodes/merge-bmc.ts';
import type { NodeDoc } from '../../server/store/docs.ts';
import type { BmcEnrolmentDoc } from '../../server/bmc/node-bmc-fields.ts';
import { tmpDir } from '../support/appliance.ts';

let t: TestAppliance;
const dirs: string[] = [];
/** A fresh data dir's secrets (removed after the file). */
async function box(): Promise<SecretBox> {
  const d = await tmpDir('cc-merge-box-');
  dirs.push(d);
  return SecretBox.open(d);
}
beforeAll(async () => {
  // No power polling: nothing here should try to reach the made-up BMC addresses.
  t = await startTestAppliance({}, { settings: { power_poll_interval_s: 0 } });
});
afterAll(async () => {
  await t?.stop();
  if (t) await fs.rm(t.dataDir, { recursive: true, force: true });
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** A node record made by a machine's first /boot. */
async function node(mac: string): Promise<number> {
  return kernelArgs((await t.node('GET', `/boot?mac=${mac}`)).text).node!;
}

async function setBmc(id: number, address: string, password: string): Promise<void> {
  const r = await t.admin('PUT', `/api/v1/nodes/${id}/bmc`, { driver: 'ipmi', address, username: 'admin', password });
  expect(r.status, r.text).toBe(200);
}

/** The node's BMC with its password opened, as the export with secrets gives it (null: none, or it does not open). */
async function exported(id: number): Promise<{ address: string; password: string | null } | null> {
  const r = await t.admin('GET', '/api/v1/export/nodes.json?with_secrets=true');
  expect(r.status, r.text).toBe(200);
  return (r.body.nodes as { id: number; bmc: { address: string; password: string | null } | null }[]).find((n) => n.id === id)!.bmc;
}

async function mergedMessage(into: number, from: number): Promise<string> {
  const events = (await t.admin('GET', `/api/v1/nodes/${into}/events`)).body.events as {
    type: string;
    message: string;
    data: { from?: number };
  }[];
  return events.find((e) => e.type === 'node.merged' && e.data.from === from)!.message;
}

describe('merging nodes keeps the BMC', () => {
  it("moves from's BMC to an into without one, its password sealed again for into", async () => {
    const into = await node('52:54:00:4d:00:01');
    const from = await node('52:54:00:4d:00:02');
    await setBmc(from, '10.0.77.2', 'from-bmc-password');
    const m = await t.admin('POST', '/api/v1/nodes/merge', { into, from });
    expect(m.status, m.text).toBe(200);
    expect(m.body.bmc).toMatchObject({ driver: 'ipmi', address: '10.0.77.2', username: 'admin', password_set: true });
    expect(m.text).not.toContain('from-bmc-password');
    // The password opens on `into` (sealed for node/<into>/bmc.password, not the deleted node's record).
    expect(await exported(into)).toMatchObject({ address: '10.0.77.2', password: 'from-bmc-password' });
    expect(await mergedMessage(into, from)).toContain(`node ${from}'s BMC ipmi 10.0.77.2:623 moved to node ${into}`);
  });

  it("keeps into's own BMC when both have one, and the event says from's was dropped", async () => {
    const into = await node('52:54:00:4d:00:03');
    const from = await node('52:54:00:4d:00:04');
    await setBmc(into, '10.0.77.3', 'into-bmc-password');
    await setBmc(from, '10.0.77.4', 'from-bmc-password');
    const m = await t.admin('POST', '/api/v1/nodes/merge', { into, from });
    expect(m.status, m.text).toBe(200);
    expect(m.body.bmc).toMatchObject({ address: '10.0.77.3', password_set: true });
    expect(await exported(into)).toMatchObject({ address: '10.0.77.3', password: 'into-bmc-password' });
    const message = await mergedMessage(into, from);
    expect(message).toContain(`node ${from}'s BMC ipmi 10.0.77.4:623 was dropped`);
    expect(message).not.toContain('from-bmc-password');
  });
});

describe('the BMC fields a merge moves (merge-bmc.ts, on the cases the API cannot make)', () => {
  const doc = (id: number, over: Partial<NodeDoc> = {}) => ({ id, ...over }) as NodeDoc;
  const enrolment = (sealer: SecretBox, id: number, password: string): BmcEnrolmentDoc => ({
    state: 'outside-subnets',
    address: '10.9.9.9',
    username: 'agent',
    password_enc: sealer.seal(password, bmcPasswordRecord(id)),
    channel: 1,
    user_id: 3,
    mac: null,
    reason: null,
    at: '2024-01-01T00:00:00.000Z',
  });

  it('a password that no longer opens moves as "not set", and the note says to enter it again', async () => {
    const mine = await box();
    const other = await box();
    const bmc = {
      driver: 'ipmi' as const,
      address: '10.0.0.5',
      port: 623,
      username: 'a',
      system_path: null,
      tls: 'pin' as const,
      tls_fingerprint: null,
      ipmi_cipher_suite: null,
    };
    const into = doc(1);
    const note = mergeBmc(mine, into, doc(2, { bmc: { ...bmc, password_enc: other.seal('pw', bmcPasswordRecord(2)) } }));
    expect(into.bmc).toEqual({ ...bmc, password_enc: '' });
    expect(note).toContain('could not be decrypted: enter it again on node 1');
  });

  it('an in-band enrolment moves (sealed again) to an into with neither a BMC nor one of its own, else it is dropped', async () => {
    const b = await box();
    const into = doc(1);
    expect(mergeBmc(b, into, doc(2, { bmc_enrolment: enrolment(b, 2, 'agent-pw') }))).toContain('moved to node 1');
    expect(b.open(into.bmc_enrolment!.password_enc, bmcPasswordRecord(1))).toBe('agent-pw');
    const kept = into.bmc_enrolment;
    expect(mergeBmc(b, into, doc(3, { bmc_enrolment: enrolment(b, 3, 'other-pw') }))).toContain(
      "node 3's in-band BMC enrolment (outside-subnets) was dropped",
    );
    expect(into.bmc_enrolment).toBe(kept);
    expect(mergeBmc(b, into, doc(4))).toBe('');
  });
});
