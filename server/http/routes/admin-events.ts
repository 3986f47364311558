/** Admin routes: the event log, its live SSE stream (Last-Event-ID resume) and inventory export. */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CcEvent } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { nodeView } from '../../nodes/view.ts';
import { describeBootChain } from '../../nodes/boot-settings.ts';

/** SSE keep-alive: proxies and browsers drop idle streams after ~30-60 s. */
const SSE_HEARTBEAT_MS = 15_000;

/** One SSE frame. */
export function sseFrame(e: CcEvent): string {
  return `id: ${e.seq}\nevent: message\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * One CSV cell: quoted per RFC 4180, and text that a spreadsheet would run as a formula (a cell starting
 * with = + - @, tab or CR; OWASP "CSV injection") gets a leading apostrophe, so it is shown, not evaluated.
 * Node text (manufacturer, serial, hostname...) comes from the rack and may be hostile.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  if (typeof v !== 'number' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Register event and export routes. */
export function eventRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        querystring: Type.Object({
          node_id: Type.Optional(Type.Integer({ minimum: 1 })),
          type: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
          before: Type.Optional(Type.Integer({ minimum: 1 })),
          after: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
      },
    },
    async (req) => {
      const q = req.query;
      if (q.after !== undefined) return { events: await ctx.events.since(q.after, q.limit ?? 1000) };
      return { events: await ctx.events.query(q) };
    },
  );

  r.get(
    '/api/v1/events/stream',
    { schema: { tags: ['events'], querystring: Type.Object({ last_event_id: Type.Optional(Type.Integer({ minimum: 0 })) }) } },
    async (req, reply) => {
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
    },
  );

  r.get('/api/v1/export/nodes.json', { schema: { tags: ['export'] } }, async (_req, reply) => {
    const facts = new Map((await ctx.store.facts.find()).map((f) => [f._id, f]));
    const nodes = ctx.repo
      .all()
      .sort((a, b) => a.id - b.id)
      .map((d) => ({
        ...nodeView(d, ctx.settings.get(), describeBootChain(ctx, d)),
        facts: facts.get(String(d.id))?.facts ?? {},
        inventory: facts.get(String(d.id))?.inventory ?? null,
      }));
    return reply
      .header('content-disposition', 'attachment; filename="crashcart-nodes.json"')
      .send({ exported_at: ctx.now().toISOString(), nodes });
  });
  r.get('/api/v1/export/nodes.csv', { schema: { tags: ['export'] } }, async (_req, reply) => {
    const cols = [
      'id',
      'hostname',
      'state',
      'manufacturer',
      'product',
      'serial',
      'uuid',
      'boot_mac',
      'macs',
      'ip',
      'boot_mode',
      'policy',
      'tags',
      'cpu_model',
      'cpu_count',
      'memory_mb',
      'disk_count',
      'disk_total_bytes',
      'nic_count',
      'bmc_ip',
      'last_seen',
    ];
    const rows = ctx.repo
      .all()
      .sort((a, b) => a.id - b.id)
      .map((d) => {
        const v = nodeView(d, ctx.settings.get(), describeBootChain(ctx, d));
        const flat: Record<string, unknown> = { ...v, ...v.summary };
        return cols.map((c) => csvCell(flat[c])).join(',');
      });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="crashcart-nodes.csv"')
      .send([cols.join(','), ...rows].join('\r\n') + '\r\n');
  });
}
