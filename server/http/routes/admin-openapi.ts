/** Admin route: `GET /api/v1/openapi.json`, the published API (generated from the route table, server/http/openapi.ts). */
import type { FastifyInstance } from 'fastify';
import { addRoute } from '../route-table.ts';
import { openApiDocument } from '../openapi.ts';
import { VERSION } from '../../system/version.ts';

/** Register the OpenAPI route; the document is built once (the table is fixed at build time). */
export function openApiRoutes(app: FastifyInstance): void {
  const doc = JSON.stringify(openApiDocument(undefined, VERSION));
  addRoute(app, 'GET /api/v1/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
}
