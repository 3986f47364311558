/**
 * Connection floods against the real `crashcart serve` process (server/http/connection-caps.ts): a rack host that
 * opens TCP connections to the node plane and sends nothing, or idles after a request, holds a file descriptor per
 * connection until a timeout. The appliance runs here under a descriptor limit of 1,024 (a desktop session's soft
 * limit; Node raises the soft limit to the hard one, so both are set), where before the caps one host's flood
 * took every descriptor the process had: the admin plane, the stores and TFTP's transfer sockets with it.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { spawnAppliance, type ProcessAppliance } from '../support/appliance.ts';
import { httpFrom } from './helpers/http-from.ts';
import { waitFor } from '../support/wait-for.ts';

const FD_LIMIT = 1024;
/** What connection-caps.ts derives from that limit for each of the two planes: half the descriptors, halved. */
const PLANE_TOTAL = (FD_LIMIT * 0.5) / 2;
/** A quarter of that per source. */
const PER_SOURCE = PLANE_TOTAL / 4;

let app: ProcessAppliance | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.stop();
  app = null;
});

/** Open `n` connections from `from` that send nothing; resolves once each is connected or refused. */
async function flood(url: string, from: string, n: number): Promise<net.Socket[]> {
  const { hostname, port } = new URL(url);
  const opened = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect({ host: hostname, port: Number(port), localAddress: from });
          s.on('error', () => undefined);
          s.once('connect', () => resolve(s));
          s.once('close', () => resolve(s));
        }),
    ),
  );
  sockets.push(...opened);
  return opened;
}

/** The sockets of `list` the appliance still holds open, once its resets have arrived. */
async function stillOpen(list: net.Socket[]): Promise<number> {
  let last = -1;
  // Settled when two looks 300 ms apart agree: resets come right after the accept, not later.
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const n = list.filter((s) => !s.destroyed && s.readyState === 'open').length;
    if (n === last) return n;
    last = n;
  }
}

const adminGet = async (a: ProcessAppliance, p: string) =>
  fetch(`${a.adminUrl}${p}`, { headers: { authorization: `Bearer ${await a.token()}` } }).then((r) => r.status);

describe('connection floods on the node plane', () => {
  it('one host keeps at most its share open; other machines boot, and the host is served again once it closes some', async () => {
    app = await spawnAppliance([], { wrap: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });
    const attacker = await flood(app.nodeUrl, '127.0.0.1', 3 * PER_SOURCE);
    expect(await stillOpen(attacker)).toBe(PER_SOURCE);
    // Another machine of the rack is served while the flood holds its share.
    const other = await httpFrom('127.0.0.2', 'GET', `${app.nodeUrl}/boot?mac=02:00:00:00:00:02`);
    expect(other.status).toBe(200);
    expect(other.text).toContain('#!ipxe');
    // The flooding host itself gets a connection back once its own close.
    for (const s of attacker.slice(0, 8)) s.destroy();
    await waitFor(
      'the flooding host served again',
      10_000,
      async () => (await httpFrom('127.0.0.1', 'GET', `${app!.nodeUrl}/health`)).status === 200,
    );
  });

  it('many hosts together hold at most the cap in all; the appliance keeps its descriptors for everything else', async () => {
    app = await spawnAppliance([], { wrap: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });
    const sources = Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`);
    const all: net.Socket[] = [];
    for (const from of sources) all.push(...(await flood(app.nodeUrl, from, PER_SOURCE)));
    // 24 x 64 = 1,536 connections asked for: more descriptors than the process has.
    expect(await stillOpen(all)).toBe(PLANE_TOTAL);
    // The admin plane accepts, reads and writes (a tag is a durable store write).
    expect(await adminGet(app, '/api/v1/nodes')).toBe(200);
    const tag = await fetch(`${app.adminUrl}/api/v1/tags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'flooded', rule: ['=', ['fact', 'manufacturer'], 'Flood Inc.'] }),
    });
    expect(tag.status).toBeLessThan(300);
    // When the flood ends the node plane serves again.
    for (const s of all) s.destroy();
    await waitFor(
      'the node plane served again',
      10_000,
      async () => (await httpFrom('127.0.0.9', 'GET', `${app!.nodeUrl}/health`)).status === 200,
    );
    expect(app.exited()).toBe(false);
  });
});
