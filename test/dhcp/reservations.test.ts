/**
 * Reservations: the store-backed service (validation, durability, races) and the
 * admin routes `GET/PUT/DELETE /api/v1/reservations[/:mac]` through Fastify inject()
 * on a real appliance configured for full DHCP (no NIC: the routes are the point).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startTestAppliance, type TestAppliance } from '../support/route-appliance.ts';
import { ReservationService, canonicalMac } from '../../server/dhcp/reservations.ts';
import { makePool } from '../../server/dhcp/lease-table.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { memoryEvents } from './memory-io.ts';
import { tempStore } from './helpers.ts';

describe('reservation service', () => {
  const scope =
    (leased: Record<string, string> = {}) =>
    () => ({
      pools: [makePool('main', '10.9.0.100', '10.9.0.199', 24), makePool('10.20.0.0/24', '10.20.0.10', '10.20.0.20', 24)],
      serverIp: '10.9.0.1',
      leasedTo: async (ip: string) => leased[ip] ?? null,
    });
  const code = async (p: Promise<unknown>) => ((await p.then(() => null).catch((e: unknown) => e)) as CcError | null)?.code ?? null;

  it('canonical MACs only: unicast, colon or dash, any case', () => {
    expect(canonicalMac('52-54-00-AA-BB-CC')).toBe('52:54:00:aa:bb:cc');
    expect(canonicalMac('ff:ff:ff:ff:ff:ff')).toBeNull();
    expect(canonicalMac('01:00:5e:00:00:01')).toBeNull(); // multicast
    expect(canonicalMac('00:00:00:00:00:00')).toBeNull();
    expect(canonicalMac('52:54:00:aa:bb')).toBeNull();
  });

  it('validates against the served subnets, the appliance, other reservations and leases', async () => {
    const ts = await tempStore();
    try {
      const s = await ReservationService.open(ts.store.reservations, scope({ '10.9.0.77': '52:54:00:00:00:77' }), memoryEvents());
      expect(await s.setReservation('52:54:00:00:00:01', '10.9.0.50', 'web-1')).toEqual({
        mac: '52:54:00:00:00:01',
        ip: '10.9.0.50',
        hostname: 'web-1',
      });
      expect(await s.setReservation('52:54:00:00:00:02', '10.20.0.30')).toMatchObject({ ip: '10.20.0.30' }); // a relayed subnet, outside its range
      expect(await code(s.setReservation('52:54:00:00:00:03', '10.9.0.50'))).toBe('CC_ERR_RESERVATION_CONFLICT');
      expect(await code(s.setReservation('52:54:00:00:00:03', '10.9.0.77'))).toBe('CC_ERR_RESERVATION_CONFLICT');
      expect(await code(s.setReservation('52:54:00:00:00:77', '10.9.0.77'))).toBeNull(); // its own lease
      for (const ip of ['192.168.1.5', '10.9.0.0', '10.9.0.255', '10.9.0.1', '10.9.0.300'])
        expect(await code(s.setReservation('52:54:00:00:00:04', ip))).toBe('CC_ERR_RESERVATION_INVALID');
      expect(await code(s.setReservation('ff:ff:ff:ff:ff:ff', '10.9.0.60'))).toBe('CC_ERR_RESERVATION_INVALID');
      expect(await code(s.setReservation('52:54:00:00:00:04', '10.9.0.60', 'x; chain http://evil/'))).toBe('CC_ERR_RESERVATION_INVALID');
      expect(await code(s.setReservation('52:54:00:00:00:09', null))).toBe('CC_ERR_NOT_FOUND');
      // Moving a reservation frees its old address at once.
      await s.setReservation('52:54:00:00:00:01', '10.9.0.51');
      expect(s.macForReservedIp('10.9.0.50')).toBeNull();
      expect(s.macForReservedIp('10.9.0.51')).toBe('52:54:00:00:00:01');
      expect(await code(s.setReservation('52:54:00:00:00:03', '10.9.0.50'))).toBeNull();
      expect(s.list().map((r) => r.ip)).toEqual(['10.9.0.50', '10.9.0.51', '10.9.0.77', '10.20.0.30']);
    } finally {
      await ts.cleanup();
    }
  });

  it('refuses every reservation when full DHCP serves no pool', async () => {
    const ts = await tempStore();
    try {
      const s = await ReservationService.open(
        ts.store.reservations,
        () => ({ pools: [], serverIp: null, leasedTo: async () => null }),
        memoryEvents(),
      );
      const e = (await s.setReservation('52:54:00:00:00:01', '10.9.0.50').catch((x: unknown) => x)) as CcError;
      expect(e.code).toBe('CC_ERR_RESERVATION_INVALID');
      expect(e.message).toMatch(/full DHCP is not serving/);
    } finally {
      await ts.cleanup();
    }
  });

  it('two racing requests for one address: exactly one wins', async () => {
    const ts = await tempStore();
    try {
      const s = await ReservationService.open(ts.store.reservations, scope(), memoryEvents());
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => s.setReservation(`52:54:00:00:01:${String(i).padStart(2, '0')}`, '10.9.0.42')),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as CcError).code)).toEqual(
        Array(9).fill('CC_ERR_RESERVATION_CONFLICT'),
      );
    } finally {
      await ts.cleanup();
    }
  });

  it('an acknowledged reservation is on disk (fsynced) and survives a reopen', async () => {
    const ts = await tempStore();
    try {
      const s = await ReservationService.open(ts.store.reservations, scope(), memoryEvents());
      const syncs = ts.store.reservations.fsync.syncs;
      await s.setReservation('52:54:00:00:02:01', '10.9.0.60', 'db-1');
      expect(ts.store.reservations.fsync.syncs).toBeGreaterThan(syncs);
      expect(fs.readFileSync(ts.store.reservations.filename, 'utf8')).toContain('"ip":"10.9.0.60"');
      await s.setReservation('52:54:00:00:02:02', '10.9.0.61');
      await s.setReservation('52:54:00:00:02:02', null);
      const { store } = await ts.reopen();
      const again = await ReservationService.open(store.reservations, scope(), memoryEvents());
      expect(again.list()).toEqual([{ mac: '52:54:00:00:02:01', ip: '10.9.0.60', hostname: 'db-1' }]);
    } finally {
      await ts.cleanup();
    }
  });
});

describe('admin routes', () => {
  let t: TestAppliance;
  beforeAll(async () => {
    // Full DHCP configured but no NIC: the DHCP service stays off, the routes validate against its pool.
    t = await startTestAppliance({
      address: { ip: '10.9.0.1', prefix: 24 },
      dhcp: 'full',
      range: { start: '10.9.0.100', end: '10.9.0.199' },
      pools: [{ subnet: '10.20.0.0', prefix: 24, start: '10.20.0.10', end: '10.20.0.200' }],
    });
  });
  afterAll(() => t.stop());
  const inject = async (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown, auth = true) => {
    const r = await t.app.admin.inject({
      method,
      url,
      payload: payload as object | undefined,
      headers: auth ? { authorization: `Bearer ${t.token}` } : {},
    });
    return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : null };
  };

  it('PUT, GET one, GET all, DELETE', async () => {
    const put = await inject('PUT', '/api/v1/reservations/52-54-00-AA-00-01', { ip: '10.9.0.20', hostname: 'node-1' });
    expect(put).toEqual({ status: 200, body: { mac: '52:54:00:aa:00:01', ip: '10.9.0.20', hostname: 'node-1' } });
    expect((await inject('PUT', '/api/v1/reservations/52:54:00:aa:00:02', { ip: '10.20.0.5' })).status).toBe(200);
    expect((await inject('GET', '/api/v1/reservations/52:54:00:AA:00:01')).body).toMatchObject({ ip: '10.9.0.20' });
    expect((await inject('GET', '/api/v1/reservations')).body).toEqual({
      reservations: [
        { mac: '52:54:00:aa:00:01', ip: '10.9.0.20', hostname: 'node-1' },
        { mac: '52:54:00:aa:00:02', ip: '10.20.0.5', hostname: null },
      ],
    });
    expect((await inject('DELETE', '/api/v1/reservations/52:54:00:aa:00:02')).status).toBe(204);
    expect((await inject('GET', '/api/v1/reservations/52:54:00:aa:00:02')).status).toBe(404);
    const ev = await t.admin('GET', '/api/v1/events?type=dhcp.reservation');
    expect(JSON.stringify(ev.body)).toContain('52:54:00:aa:00:02');
  });

  it('clear errors with codes and fixes; nothing stored on a refusal', async () => {
    const cases: [string, unknown, number, string][] = [
      ['52:54:00:aa:00:03', { ip: '192.168.0.9' }, 400, 'CC_ERR_RESERVATION_INVALID'],
      ['52:54:00:aa:00:03', { ip: '10.9.0.1' }, 400, 'CC_ERR_RESERVATION_INVALID'],
      ['52:54:00:aa:00:03', { ip: '10.9.0.20' }, 409, 'CC_ERR_RESERVATION_CONFLICT'],
      ['01:00:5e:00:00:01', { ip: '10.9.0.21' }, 400, 'CC_ERR_RESERVATION_INVALID'],
      ['52:54:00:aa:00:03', { ip: '10.9.0.21', extra: 1 }, 400, 'CC_ERR_BAD_REQUEST'],
      ['52:54:00:aa:00:03', { ip: 'ten' }, 400, 'CC_ERR_BAD_REQUEST'],
      ['not-a-mac', { ip: '10.9.0.21' }, 400, 'CC_ERR_BAD_REQUEST'],
    ];
    for (const [mac, body, status, c] of cases) {
      const r = await inject('PUT', `/api/v1/reservations/${mac}`, body);
      expect([mac, r.status, r.body?.code]).toEqual([mac, status, c]);
      expect(String(r.body?.fix).length).toBeGreaterThan(15);
    }
    expect(((await inject('GET', '/api/v1/reservations')).body!.reservations as unknown[]).length).toBe(1);
    expect((await inject('DELETE', '/api/v1/reservations/52:54:00:aa:00:09')).status).toBe(404);
  });

  it('needs the admin token', async () => {
    expect((await inject('GET', '/api/v1/reservations', undefined, false)).status).toBe(401);
    expect((await inject('PUT', '/api/v1/reservations/52:54:00:aa:00:05', { ip: '10.9.0.30' }, false)).status).toBe(401);
  });

  it('the reservation is in the data dir for the next start', async () => {
    const store = path.join(t.dataDir, 'db', 'reservations.db');
    expect(fs.readFileSync(store, 'utf8')).toContain('"mac":"52:54:00:aa:00:01"');
  });
});
