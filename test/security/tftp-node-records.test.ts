/**
 * New machine records from TFTP (docs/security.md "Node plane"): GRUB asks for `grub/node/MAC/...cfg`, and a record is
 * made for a MAC no record holds. A read request is one UDP datagram from any source address it likes, so a per-address
 * budget would give every forged address a full bucket; these records share the one budget of DHCP sightings, and the
 * warning each refusal causes is limited too. The attack runs against the real TFTP server with the core's own hooks,
 * on an in-memory network where every request names a fresh source; a real machine's `/boot` over HTTP follows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { kernelArgs } from '../support/protocol-node.ts';
import { httpFrom } from './helpers/http-from.ts';
import { TftpServer } from '../../server/tftp/server.ts';
import { bootHooks } from '../../server/nodes/boot-hooks-impl.ts';
import { MemNet } from '../tftp/helpers/mem-net.ts';
import { memRead } from '../tftp/helpers/mem-client.ts';

const SERVER = { address: '10.66.0.1', port: 69 };
const mac = (i: number) => `02:5e:c1:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;

let t: TestAppliance | null = null;
let tftp: TftpServer | null = null;
let root: string | null = null;
afterEach(async () => {
  await tftp?.stop();
  await t?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
  [t, tftp, root] = [null, null, null];
});

describe('unknown-MAC records over TFTP', () => {
  it('share one budget whatever source the datagrams name, log one warning, and leave room for a real /boot', async () => {
    // The clock stands still: no bucket refills and no log interval passes, so the bounds are exact however slow this is.
    const at = Date.now();
    const a = (t = await startTestAppliance(
      {},
      { settings: { node_create_dhcp_per_min: 10, unregistered_nodes_max: 30 }, now: () => new Date(at) },
    ));
    root = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-records-'));
    const warned: unknown[] = [];
    const mem = new MemNet();
    tftp = new TftpServer({
      port: SERVER.port,
      open: async (port) => mem.open(SERVER.address, port),
      roots: [root],
      blksizeCap: 1468,
      hooks: bootHooks(a.app.ctx),
      events: a.app.ctx.events,
      now: () => 0,
      log: { debug() {}, info() {}, error() {}, warn: (o: unknown, m?: string) => void (m?.startsWith('tftpVirtual') && warned.push(o)) },
    });
    await tftp.start();
    const SOURCES = 60;
    let served = 0;
    for (let i = 0; i < SOURCES; i++) {
      // A fresh source address and a fresh MAC for every request, as a forger sends them.
      const r = await memRead(mem, `10.66.${1 + (i >> 8)}.${1 + (i & 255)}`, SERVER, { file: `grub/node/${mac(i)}/x86_64-efi/-/-.cfg` });
      if (r.error === null) served++;
    }
    const total = (await a.admin('GET', '/api/v1/nodes')).body.total as number;
    // The shared bucket's 10, not one bucket per address (which made 30 here and filled unregistered_nodes_max).
    expect(total).toBe(10);
    expect(served).toBe(10); // each record's GRUB got its configuration; the refused ones "file not found"
    const suppressed = (await a.admin('GET', '/api/v1/events?type=node.suppressed&limit=100')).body.events as { data: object }[];
    expect(suppressed.map((e) => e.data)).toEqual([{ kind: 'create', source: 'dhcp', tripped: true }]);
    // Fifty refusals, one warning line.
    expect(warned).toHaveLength(1);
    // A real machine's iPXE asks /boot over HTTP from its own address (a TCP handshake): its record is made.
    const real = await httpFrom('127.0.0.7', 'GET', `${a.nodeUrl}/boot?mac=${mac(999)}&arch=x86_64&platform=efi`);
    expect(real.status, real.text).toBe(200);
    expect(kernelArgs(real.text).node).toBeGreaterThan(0);
    expect((await a.admin('GET', '/api/v1/nodes')).body.total).toBe(11);
  });
});
