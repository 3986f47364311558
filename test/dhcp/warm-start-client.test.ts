/**
 * A real client during the DHCP warm start: the plugin alone in a namespace (real sockets, real store) runs a
 * warm start far longer than the test, and busybox udhcpc binds meanwhile. Its DORA is served by the real handler
 * (the ACK is in the real event log, the lease in the real counters) while the warm start is still running; no
 * synthetic client (MAC 0a:cc:...) shows up in the events, and the sockets sent only the real exchange's replies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';
import { DhcpPluginProc } from '../support/dhcp-plugin.ts';

const lab = new Lab('dhcp', 'wm');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-warm-'));
const SERVER = '10.9.0.1';
const MAC = '02:cc:00:00:00:31';
let app: DhcpPluginProc | null = null;

const run = (ns: string, cmd: string, args: string[], timeoutMs: number) => lab.execAsync(ns, cmd, args, timeoutMs);

beforeAll(() => {
  lab.addSwitch();
  lab.addNs('app');
  lab.addNs('cli');
  lab.plug('app', 'p0', `${SERVER}/24`);
  lab.plug('cli', 'e0', null);
  lab.exec('cli', 'ip', ['link', 'set', 'e0', 'address', MAC]);
});

afterAll(async () => {
  await app?.stop();
  await lab.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a real client during the warm start', () => {
  it('udhcpc binds while the warm start runs, and nothing synthetic reaches the wire or the events', async () => {
    app = new DhcpPluginProc(lab, 'app', {
      iface: 'p0',
      ip: SERVER,
      prefix: 24,
      mode: 'full',
      range: { start: '10.9.0.100', end: '10.9.0.199' },
      force: true,
      dataDir: path.join(tmp, 'data'),
      // Far more than the test lasts: it is still running when the client comes (stop() ends it).
      options: { reprobeMs: 0, warmStartDoras: 10_000_000 },
      config: { dhcpWarmStart: true },
    });
    expect((await app.started()).type).toBe('ready');
    await waitFor('warm exchanges', 60_000, async () => ((await app!.stats()).warm_start_exchanges ?? 0) > 0);
    const script = path.join(tmp, 'udhcpc-script');
    const log = path.join(tmp, 'udhcpc.log');
    fs.writeFileSync(script, `#!/bin/sh\necho "$1 $ip" >> ${log}\nexit 0\n`, { mode: 0o755 });
    const r = await run('cli', 'udhcpc', ['-i', 'e0', '-n', '-q', '-f', '-t', '5', '-T', '2', '-s', script], 60_000);
    expect(r.code).toBe(0);
    const bound = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('bound'));
    expect(bound).toMatch(/^bound 10\.9\.0\.(1\d\d)$/);
    const s = await app.stats();
    // Still warming up: the client's DORA was served in between its slices.
    expect(s.warm_start_done).toBe(0);
    expect(s.warm_start_exchanges).toBeGreaterThan(0);
    expect(s.acks).toBe(1);
    const acks = app.events('dhcp.ack');
    expect(acks.map((e) => [e.mac, e.data.ip])).toEqual([[MAC, bound!.split(' ')[1]]]);
    expect(app.events().filter((e) => String(e.mac ?? '').startsWith('0a:cc:'))).toEqual([]);
    // Sent datagrams are the real handler's only: one OFFER and one ACK (udhcpc may retry a DISCOVER once on a slow machine).
    expect(s.sent).toBe((s.offers ?? 0) + (s.acks ?? 0));
    await app.stop();
    app = null;
  });
});
