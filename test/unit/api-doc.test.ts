/**
 * The published API: docs/api.md is generated from contract/routes.ts and must
 * be current; the appliance serves the same OpenAPI document at
 * GET /api/v1/openapi.json (admin credentials required).
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { apiDoc } from '../../scripts/gen-api-doc.ts';
import { openApiDocument } from '../../server/http/openapi.ts';
import { ADMIN_ROUTES } from '../../contract/routes.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';

let t: InProcessAppliance | undefined;
afterAll(() => t?.stop());

type Doc = { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security: unknown[] }>> };

describe('published API', () => {
  it('docs/api.md is current (regenerate: node bin/run-ts.mjs scripts/gen-api-doc.ts)', () => {
    const page = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    expect(page === apiDoc(), 'docs/api.md is stale: run `node bin/run-ts.mjs scripts/gen-api-doc.ts`').toBe(true);
  });

  it('has one operation per route of the table, with every path parameter and the route auth', () => {
    const doc = openApiDocument() as unknown as Doc;
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([p, m]) => Object.keys(m).map((x) => `${x.toUpperCase()} ${p}`));
    expect(ops.sort()).toEqual(
      Object.keys(ADMIN_ROUTES)
        .map((k) => k.replace(/:(\w+)/g, '{$1}'))
        .sort(),
    );
    for (const [p, methods] of Object.entries(doc.paths))
      for (const op of Object.values(methods))
        for (const name of [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))
          expect(
            op.parameters?.some((x) => x.name === name && x.in === 'path'),
            `${p} {${name}}`,
          ).toBe(true);
    expect(doc.paths['/api/v1/health']!.get!.security).toEqual([]);
    expect(doc.paths['/api/v1/nodes']!.get!.security.length).toBeGreaterThan(0);
    // Every page section names a route; docs/api.md lists them all.
    for (const k of Object.keys(ADMIN_ROUTES)) expect(apiDoc()).toContain(`### \`${k.replace(/:(\w+)/g, '{$1}')}\``);
  });

  it('is served at GET /api/v1/openapi.json to the admin, and refused without the token', async () => {
    t = await startInProcess();
    const anon = await t.admin.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(anon.statusCode).toBe(401);
    const r = await t.admin.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: { authorization: `Bearer ${await t.token()}` } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual(
      JSON.parse(JSON.stringify(openApiDocument(undefined, (r.json() as { info: { version: string } }).info.version))),
    );
  });
});
