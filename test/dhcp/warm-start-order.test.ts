/**
 * A real `crashcart serve` with full DHCP on a namespace's NIC ends its DHCP warm start (the closing full
 * collection) only once the whole appliance has started (server/app.ts `network.appStarted()`): the admin plane,
 * built after DHCP, leaves about 11 MB in the young generation that the collection must take, or the first burst's
 * scavenges copy and promote it (docs/perf/changes.md, "The warm start's collection after the whole start").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../support/netns-lab.ts';
import { spawnAppliance, standInMicrokernel, tmpDir } from '../support/appliance.ts';
import { waitFor } from '../support/wait-for.ts';

const lab = new Lab('dhcp', 'order');
beforeAll(() => {
  lab.addNs('srv');
  lab.addNs('rack');
  lab.plug('srv', 'eth0', '10.78.0.1/24', { peerNs: 'rack', peerIf: 'eth0', peerCidr: '10.78.0.2/24' });
});
afterAll(() => lab.cleanup());

describe('the DHCP warm start in serve', () => {
  it('ends with its full collection after the appliance has started', async () => {
    const dataDir = await tmpDir('cc-warm-order-');
    const a = await spawnAppliance(
      [
        ...['--iface', 'eth0', '--dhcp', 'full', '--range', '10.78.0.10-10.78.0.250', '--force'],
        ...['--microkernel', await standInMicrokernel(dataDir), '--dhcp-warm-start', 'on', '--log-level', 'info'],
      ],
      { dataDir, netns: lab.ns('srv') },
    );
    try {
      await waitFor('the warm start done', 60_000, () => a.output().includes('dhcp: warm start done'));
      const out = a.output();
      const at = (msg: string) => {
        const i = out.indexOf(msg);
        expect([msg, i >= 0]).toEqual([msg, true]);
        return i;
      };
      const serving = at('dhcp: serving');
      const started = at('appliance started: every plane listening');
      const done = at('dhcp: warm start done');
      // DHCP serves from its own start; the warm start's collection waits for the appliance's.
      expect(serving).toBeLessThan(started);
      expect(started).toBeLessThan(done);
      expect(out.slice(done)).toMatch(/collectMs[^0-9]*[1-9]/);
    } finally {
      await a.stop(10_000);
    }
  });
});
