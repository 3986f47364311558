/**
 * A queued reboot is delivered once (issue 10 §5): concurrent check-ins get it once between them, and
 * once an agent was told, a SIGKILL of the appliance does not make it tell again. The real binary, real
 * HTTP, a real SIGKILL.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { factsHash } from '../../contract/facts-hash.ts';
import { spawnAppliance, tmpDir, type ProcessAppliance } from '../support/appliance.ts';

const procs: ProcessAppliance[] = [];
afterAll(() => Promise.all(procs.map((p) => p.stop())));

/** Start the appliance on fresh ports, serve's own defaults but a quiet log. */
async function launch(dataDir: string): Promise<{ proc: ProcessAppliance; node: string }> {
  const proc = await spawnAppliance(['--log-level', 'error'], { dataDir, testDefaults: false });
  procs.push(proc);
  return { proc, node: proc.nodeUrl };
}

/** An admin API call with the token the data dir holds. */
async function adminCall(p: ProcessAppliance, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(p.adminUrl + url, {
    method,
    headers: { authorization: `Bearer ${await p.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** SIGKILL, resolved once it is gone. */
async function sigkill(p: ProcessAppliance): Promise<void> {
  const gone = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGKILL');
  await gone;
}

const post = async (url: string, body: unknown) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
};

describe('check-in command delivery', () => {
  it('hands a queued reboot to exactly one of many concurrent check-ins, and never again after a SIGKILL', async () => {
    const dataDir = await tmpDir('cc-sec-checkin-');
    let a = await launch(dataDir);
    const boot = await (await fetch(`${a.node}/boot?mac=52:54:00:e1:00:01`)).text();
    const token = /crashcart\.token=(\S+)/.exec(boot)![1]!;
    const facts = { role: 'checkin' };
    const reg = await post(`${a.node}/api/v1/register`, { hw_id: 'x', macs: ['52:54:00:e1:00:01'], token, facts });
    expect(reg.status).toBe(200);
    const checkin = (base: string) =>
      post(`${base}/api/v1/checkin`, {
        node_id: reg.body.node_id,
        agent_token: reg.body.agent_token,
        state: 'running',
        facts_hash: factsHash(facts),
        first_checkin: false,
      });
    const queue = async () =>
      expect((await adminCall(a.proc, 'POST', '/api/v1/nodes/reboot', { node_ids: [reg.body.node_id] })).body.results[0].ok).toBe(true);

    // Concurrent check-ins: one reboot between them.
    await queue();
    const answers = await Promise.all(Array.from({ length: 12 }, () => checkin(a.node)));
    expect(answers.map((r) => r.body.command).filter((c) => c === 'reboot')).toHaveLength(1);

    // Told, then killed right after the answer: the restarted appliance does not tell again.
    await queue();
    expect((await checkin(a.node)).body.command).toBe('reboot');
    await sigkill(a.proc);
    expect(a.proc.child.signalCode).toBe('SIGKILL');
    a = await launch(dataDir);
    expect((await checkin(a.node)).body.command).toBe('acknowledge');

    // Positive control: a command queued and not yet delivered survives the same SIGKILL and is delivered once.
    await queue();
    await sigkill(a.proc);
    a = await launch(dataDir);
    expect((await checkin(a.node)).body.command).toBe('reboot');
    expect((await checkin(a.node)).body.command).toBe('acknowledge');
  }, 180_000);
});
