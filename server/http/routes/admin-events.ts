/** Admin routes: the event log, its live SSE stream (Last-Event-ID resume) and inventory export. */
import type { FastifyInstance } from 'fastify';
import type { CcEvent } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { listEvents } from '../../events/event-query.ts';
import { exportNodesCsv, exportNodesJson } from '../../nodes/node-export.ts';
import { bmcExportNodes } from '../../bmc/bmc-export.ts';

/** SSE keep-alive: proxies and browsers drop idle streams after ~30-60 s. */
const SSE_HEARTBEAT_MS = 15_000;

/** One SSE frame (WHATWG HTML "Server-sent events": id, event, data, blank line). */
export function sseFrame(e: CcEvent): string {
  return `id: ${e.seq}\nevent: message\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Register event and export routes. */
export function eventRoutes(app: FastifyInstance, ctx: CoreContext): void {
  addRoute(app, 'GET /api/v1/events', async (req) => ({ events: await listEvents(ctx.events, req.query) }));

  addRoute(app, 'GET /api/v1/events/stream', async (req, reply) => {
    const header = req.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    const last = fromHeader ?? req.query.last_event_id ?? ctx.events.lastSeq;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    // Subscribe first, then replay, so nothing falls in the gap; dedupe by seq.
    let sent = last;
    const queue: CcEvent[] = [];
    let replaying = true;
    const push = (e: CcEvent) => {
      if (e.seq <= sent) return;
      sent = e.seq;
      res.write(sseFrame(e));
    };
    const unsub = ctx.events.subscribe((e) => (replaying ? queue.push(e) : push(e)));
    const hb = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    req.raw.on('close', () => {
      clearInterval(hb);
      unsub();
    });
    for (const e of await ctx.events.since(last)) push(e);
    replaying = false;
    for (const e of queue) push(e);
    return reply;
  });

  addRoute(app, 'GET /api/v1/export/nodes.json', async (req, reply) => {
    const all = await exportNodesJson(ctx);
    // BMC fields only when asked, and then with their passwords (server/bmc/bmc-export.ts).
    const nodes = bmcExportNodes(ctx, all.nodes, req.query.with_secrets === true);
    return reply.header('content-disposition', 'attachment; filename="crashcart-nodes.json"').send({ ...all, nodes });
  });
  addRoute(app, 'GET /api/v1/export/nodes.csv', async (_req, reply) =>
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="crashcart-nodes.csv"')
      .send(exportNodesCsv(ctx)),
  );
}
