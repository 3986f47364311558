/**
 * The DHCP plugin on Node's datagram layer (`--dhcp-js`, and the path when the batching addon is missing): real
 * clients in network namespaces, as clients.test.ts runs them on the addon's sockets. udhcpc binds by broadcast and
 * renews by unicast; perfdhcp's relayed clients all get an address, none dropped; no datagram went through the addon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';
import { DhcpPluginProc } from '../support/dhcp-plugin.ts';

const lab = new Lab('dhcp', 'ns');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-node-sockets-'));
const SERVER = '10.9.0.1';
const udhcpcLog = path.join(tmp, 'udhcpc.log');
const udhcpcScript = path.join(tmp, 'udhcpc-script');
let app: DhcpPluginProc;

beforeAll(() => {
  fs.writeFileSync(
    udhcpcScript,
    `#!/bin/sh\necho "$1 $ip" >> ${udhcpcLog}\ncase "$1" in bound|renew) ip addr replace "$ip/20" dev "$interface" ;; deconfig) ip addr flush dev "$interface" ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  lab.addSwitch();
  lab.addNs('app');
  lab.addNs('udh');
  lab.addNs('perf');
  lab.plug('app', 'p0', `${SERVER}/20`);
  lab.plug('udh', 'e0', null);
  lab.plug('perf', 'e0', '10.9.0.2/20');
  lab.exec('udh', 'ip', ['link', 'set', 'e0', 'address', '02:cc:00:00:00:12']);
});

afterAll(async () => {
  await lab.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.sequential("DHCP on Node's datagram layer (--dhcp-js)", () => {
  it('starts with dhcpJs in its config', async () => {
    app = new DhcpPluginProc(lab, 'app', {
      iface: 'p0',
      ip: SERVER,
      prefix: 20,
      mode: 'full',
      range: { start: '10.9.1.1', end: '10.9.15.254' },
      force: true,
      dataDir: path.join(tmp, 'data'),
      options: { reprobeMs: 0, leaseS: 60, linkPollMs: 500 },
      config: { dhcpJs: true },
    });
    expect((await app.started()).type).toBe('ready');
  });

  it('udhcpc binds by broadcast and renews by unicast', async () => {
    const c = lab.spawnIn('udh', 'udhcpc', ['-i', 'e0', '-f', '-s', udhcpcScript, '-t', '5', '-T', '1', '-A', '1']);
    try {
      const bound = await waitFor('udhcpc bound', 20_000, () =>
        (fs.existsSync(udhcpcLog) ? fs.readFileSync(udhcpcLog, 'utf8') : '').split('\n').find((l) => l.startsWith('bound')),
      );
      const ip = bound.split(' ')[1]!;
      expect(ip).toMatch(/^10\.9\.\d+\.\d+$/);
      const renewals = () => app.events('dhcp.ack').filter((e) => e.mac === '02:cc:00:00:00:12' && e.data.ciaddr === ip).length;
      c.kill('SIGUSR1');
      await waitFor('the unicast renewal ACK', 15_000, () => renewals() > 0);
    } finally {
      c.kill('SIGTERM');
    }
  });

  it('perfdhcp: 400 relayed clients all answered, none through the addon', async () => {
    const r = await lab.execAsync(
      'perf',
      'perfdhcp',
      ['-4', '-l', '10.9.0.2', '-r', '100', '-R', '400', '-n', '400', '-s', '7', '-W', '2000000', '-u', SERVER],
      120_000,
    );
    const num = (re: RegExp) => Number(r.out.match(re)?.[1] ?? NaN);
    expect(num(/DISCOVER-OFFER\*+[\s\S]*?drops: (\d+)/)).toBe(0);
    expect(num(/REQUEST-ACK\*+[\s\S]*?drops: (\d+)/)).toBe(0);
    expect(num(/REQUEST-ACK\*+[\s\S]*?received packets: (\d+)/)).toBeGreaterThanOrEqual(400);
    const s = await app.stats();
    expect(s.acks).toBeGreaterThanOrEqual(401);
    expect(s.socket_datagrams).toBe(0);
    expect(s.socket_batches).toBe(0);
    await app.stop();
  });
});
