/**
 * The admin plane is registered from contract/routes.ts: every /api/v1 route
 * the plane serves has a table entry whose schemas it uses (the very objects),
 * every entry is served, and what the routes answer validates against the
 * answer schema the clients were typed from.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Ajv } from 'ajv';
import { ADMIN_ROUTES, type RouteSpec } from '../../contract/routes.ts';
import { adminRoutesOf } from '../../server/http/admin-plane.ts';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';

let t: InProcessAppliance;
let auth: Record<string, string>;
beforeAll(async () => {
  t = await startInProcess();
  auth = { authorization: `Bearer ${await t.token()}` };
  // Something in every list: a node (through the node plane, as a booting machine), a tag, a policy, a reservation.
  expect((await t.node.inject({ method: 'GET', url: '/boot?mac=52:54:00:77:00:01' })).statusCode).toBe(200);
  const post = (url: string, payload: object) => t.admin.inject({ method: 'POST', url, headers: auth, payload });
  expect((await post('/api/v1/tags', { name: 'any', rule: ['=', ['fact', 'x'], 'y'] })).statusCode).toBe(201);
  expect((await post('/api/v1/policies', { name: 'p1', task: 'local-disk', tags: ['any'] })).statusCode).toBe(201);
});
afterAll(() => t.stop());

const table = ADMIN_ROUTES as Record<string, RouteSpec>;

describe('admin route table', () => {
  it('serves exactly the routes of contract/routes.ts, each with the schemas of its entry', () => {
    const served = adminRoutesOf(t.admin).filter((r) => r.url.startsWith('/api/v1/'));
    const keys = new Set<string>();
    for (const r of served) {
      for (const m of [r.method].flat()) {
        if (m === 'HEAD') continue; // Fastify's automatic twin of each GET
        const key = `${m} ${r.url}`;
        keys.add(key);
        const spec = table[key];
        expect(spec, `${key} is served but has no entry in contract/routes.ts`).toBeDefined();
        const s = (r.schema ?? {}) as Record<string, unknown>;
        expect(s.params, `${key} params`).toBe(spec!.params);
        expect(s.querystring, `${key} query`).toBe(spec!.query);
        expect(s.body, `${key} body`).toBe(spec!.body);
        const response = s.response as Record<string, unknown> | undefined;
        expect(response?.[spec!.status ?? 200], `${key} answer`).toBe(spec!.response);
        expect(r.config?.auth, `${key} auth`).toBe(spec!.auth);
      }
    }
    expect([...keys].sort()).toEqual(Object.keys(table).sort());
  });

  it('answers every GET without parameters with what its answer schema says', async () => {
    const ajv = new Ajv({ strict: false });
    const gets = Object.entries(table).filter(([k, s]) => k.startsWith('GET ') && !k.includes(':') && s.response);
    expect(gets.length).toBeGreaterThan(8);
    for (const [key, spec] of gets) {
      const res = await t.admin.inject({ method: 'GET', url: key.slice(4), headers: auth });
      expect(res.statusCode, key).toBe(200);
      const check = ajv.compile(spec.response!);
      expect(check(res.json()), `${key}: ${ajv.errorsText(check.errors)}`).toBe(true);
    }
  });

  it('answers a node, its facts and its events by id as the table says, and 204 with no body for a delete', async () => {
    const ajv = new Ajv({ strict: false });
    for (const key of ['GET /api/v1/nodes/:id', 'GET /api/v1/nodes/:id/facts', 'GET /api/v1/nodes/:id/events'] as const) {
      const res = await t.admin.inject({ method: 'GET', url: key.slice(4).replace(':id', '1'), headers: auth });
      expect(res.statusCode, key).toBe(200);
      const check = ajv.compile(ADMIN_ROUTES[key].response);
      expect(check(res.json()), `${key}: ${ajv.errorsText(check.errors)}`).toBe(true);
    }
    const del = await t.admin.inject({ method: 'DELETE', url: '/api/v1/policies/p1', headers: auth });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
  });
});
