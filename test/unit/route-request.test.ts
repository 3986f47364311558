import { describe, it, expect } from 'vitest';
import { routeRequest, splitRouteKey } from '../../contract/route-request.ts';

describe('route requests from route keys', () => {
  it('splits a key into method and path', () => {
    expect(splitRouteKey('GET /api/v1/nodes/:id')).toEqual({ method: 'GET', path: '/api/v1/nodes/:id' });
    expect(() => splitRouteKey('/api/v1/nodes')).toThrow(/not a route key/);
  });

  it('fills parameters percent-encoded, so a name can never reach another route', () => {
    expect(routeRequest('DELETE /api/v1/tags/:name', { params: { name: '../nodes?x=1#' } }).path).toBe(
      '/api/v1/tags/..%2Fnodes%3Fx%3D1%23',
    );
    expect(routeRequest('POST /api/v1/nodes/:id/conflicts/dismiss', { params: { id: 7 }, body: { node_id: 2 } })).toEqual({
      method: 'POST',
      path: '/api/v1/nodes/7/conflicts/dismiss',
      body: { node_id: 2 },
    });
  });

  it('appends the query, leaving out what is undefined or null', () => {
    expect(routeRequest('GET /api/v1/events', { query: { limit: 50, type: 'dhcp.', before: undefined, after: null } }).path).toBe(
      '/api/v1/events?limit=50&type=dhcp.',
    );
    expect(routeRequest('GET /api/v1/nodes').path).toBe('/api/v1/nodes');
  });

  it('refuses a missing parameter instead of calling a wrong URL', () => {
    expect(() => routeRequest('GET /api/v1/nodes/:id', {})).toThrow(/parameter "id" missing/);
  });
});
