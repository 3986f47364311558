/**
 * Slow request bodies from the rack against the real node plane (server/http/body-budget.ts): every body route takes
 * up to 2 MiB, buffered whole, and a route that needs a token reads it first. Requests here declare 2 MiB and send
 * none of it, which holds the bytes they declared until the request timeout. One source gets an eighth of the 256 MiB
 * budget; eight sources fill it; a machine's large register then gets 503 with Retry-After (a small one, under
 * UNCHARGED_BODY_BYTES, is not charged), and goes through once the flood's requests are gone.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ProtocolNode } from '../support/protocol-node.ts';
import { waitFor } from '../support/wait-for.ts';
import { DEFAULT_BODY_BYTES_IN_FLIGHT, BODY_SOURCE_SHARE, UNCHARGED_BODY_BYTES } from '../../server/http/body-budget.ts';
import { MAX_REGISTER_BYTES } from '../../contract/index.ts';

const PER_SOURCE = Math.floor((DEFAULT_BODY_BYTES_IN_FLIGHT * BODY_SOURCE_SHARE) / MAX_REGISTER_BYTES);
const SOURCES_TO_FILL = Math.ceil(DEFAULT_BODY_BYTES_IN_FLIGHT / MAX_REGISTER_BYTES / PER_SOURCE);

let t: TestAppliance | null = null;
const held: net.Socket[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await t?.stop();
  t = null;
});

/** What a request that declared a 2 MiB body and sent none of it got before `ms`: the answer's head, or '' (still waiting). */
function stalledBody(url: string, from: string, ms = 1500): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: hostname, port: Number(port), localAddress: from });
    held.push(s);
    let got = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.once('connect', () =>
      s.write(
        `POST /api/v1/checkin HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${MAX_REGISTER_BYTES}\r\n\r\n`,
      ),
    );
    setTimeout(() => resolve(got), ms);
  });
}

describe('request bodies in flight on the node plane', () => {
  it('one source holds at most its share; many fill the budget, then a machine waits and registers after', async () => {
    t = await startTestAppliance();
    const a = t;
    // One host: its share is held, the rest answered at once.
    const first = await Promise.all(Array.from({ length: PER_SOURCE + 4 }, () => stalledBody(a.nodeUrl, '127.0.1.1')));
    expect(first.filter((h) => h === '')).toHaveLength(PER_SOURCE);
    const refused = first.filter((h) => h !== '');
    expect(refused).toHaveLength(4);
    for (const h of refused) {
      expect(h).toMatch(/^HTTP\/1\.1 503 /);
      expect(h).toMatch(/\r\nretry-after: 2\r\n/i);
      expect(h).toContain('CC_ERR_BUSY');
    }
    // Another machine (the kit's requests come from 127.0.0.1) is not affected by one host's flood.
    const node = new ProtocolNode(a, ['02:bb:00:00:00:01'], { x: 1 });
    await node.boot();
    expect((await node.register()).status).toBe(200);

    // Enough hosts fill the budget in all.
    const rest = await Promise.all(
      Array.from({ length: SOURCES_TO_FILL - 1 }, (_, i) =>
        Promise.all(Array.from({ length: PER_SOURCE }, () => stalledBody(a.nodeUrl, `127.0.2.${i + 1}`))),
      ),
    );
    expect(rest.flat().filter((h) => h === '')).toHaveLength((SOURCES_TO_FILL - 1) * PER_SOURCE);
    // A register with the complete facts (over UNCHARGED_BODY_BYTES) waits; a small one still goes through.
    expect((await node.register()).status).toBe(200);
    node.facts = { x: 1, lshw: 'x'.repeat(UNCHARGED_BODY_BYTES) };
    const busy = await node.register();
    expect(busy.status).toBe(503);
    expect(busy.body.code).toBe('CC_ERR_BUSY');
    expect(busy.body.fix).toMatch(/Retry-After/);

    // The flood's requests end (the clients went away): the bytes come back, and the machine gets through.
    for (const s of held.splice(0)) s.destroy();
    await waitFor('a register accepted again', 10_000, async () => (await node.register()).status === 200);
  });
});
