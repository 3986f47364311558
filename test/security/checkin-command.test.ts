/**
 * A queued reboot is delivered once (issue 10 §5): concurrent check-ins get it once between them, and
 * once an agent was told, a SIGKILL of the appliance does not make it tell again. The real binary, real
 * HTTP, a real SIGKILL.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { factsHash } from '../../contract/facts-hash.ts';
import { freePort, tmpDir } from '../support/appliance.ts';
import { startServe, type ServeProc } from './helpers/serve-proc.ts';

const procs: ServeProc[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

/** Start the appliance on fresh ports (retrying when a port was taken meanwhile). */
async function launch(dataDir: string): Promise<{ proc: ServeProc; node: string; admin: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [http, admin] = [await freePort(), await freePort()];
    const args = ['--data-dir', dataDir, '--lab', 'off', '--http-port', String(http), '--admin-listen', `127.0.0.1:${admin}`];
    const proc = await startServe([...args, '--log-level', 'error']);
    if (proc) {
      procs.push(proc);
      return { proc, node: `http://127.0.0.1:${http}`, admin: `http://127.0.0.1:${admin}` };
    }
  }
  throw new Error('the appliance did not start');
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
      expect((await a.proc.admin(a.admin, 'POST', '/api/v1/nodes/reboot', { node_ids: [reg.body.node_id] })).body.results[0].ok).toBe(true);

    // Concurrent check-ins: one reboot between them.
    await queue();
    const answers = await Promise.all(Array.from({ length: 12 }, () => checkin(a.node)));
    expect(answers.map((r) => r.body.command).filter((c) => c === 'reboot')).toHaveLength(1);

    // Told, then killed right after the answer: the restarted appliance does not tell again.
    await queue();
    expect((await checkin(a.node)).body.command).toBe('reboot');
    a.proc.child.kill('SIGKILL');
    await a.proc.exited;
    expect(a.proc.child.signalCode).toBe('SIGKILL');
    a = await launch(dataDir);
    expect((await checkin(a.node)).body.command).toBe('acknowledge');

    // Positive control: a command queued and not yet delivered survives the same SIGKILL and is delivered once.
    await queue();
    a.proc.child.kill('SIGKILL');
    await a.proc.exited;
    a = await launch(dataDir);
    expect((await checkin(a.node)).body.command).toBe('reboot');
    expect((await checkin(a.node)).body.command).toBe('acknowledge');
  }, 180_000);
});
