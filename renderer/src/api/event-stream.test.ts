// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import { EventStream } from './event-stream.ts';

const event = (seq: number, type = 'node.checkin'): string =>
  `id: ${seq}\ndata: ${JSON.stringify({ seq, ts: '2026-01-01T00:00:00Z', type, node_id: seq, mac: null, message: '', data: {} })}\n\n`;

/** A response whose body yields the given chunks, then ends (a dropped connection). */
function sse(chunks: string[]): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('event stream', () => {
  it('delivers events, resumes with Last-Event-ID after a drop, and reports a reconnect', async () => {
    const seen: number[] = [];
    const lastIds: Array<string | null> = [];
    let call = 0;
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      lastIds.push((init.headers as Record<string, string>)['Last-Event-ID'] ?? null);
      call++;
      if (call === 1) return sse([event(1), event(2).slice(0, 10), event(2).slice(10), ': keepalive\n\n']);
      if (call === 2) return sse([event(3)]);
      return new Promise<Response>(() => {}); // stays open
    });
    const s = new EventStream();
    const reconnects = vi.fn();
    s.on((e: CcEvent) => seen.push(e.seq));
    s.onReconnect(reconnects);
    s.start();
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3]), { timeout: 5000 });
    expect(lastIds.slice(0, 2)).toEqual([null, '2']);
    expect(reconnects).toHaveBeenCalledTimes(1);
    s.stop();
    expect(s.state.value).toBe('stopped');
  });

  it('stops retrying and says so when the session is refused', async () => {
    const fetchMock = vi.fn(async () => new Response('{}', { status: 401 }));
    vi.stubGlobal('fetch', fetchMock);
    const s = new EventStream();
    s.start();
    await vi.waitFor(() => expect(s.state.value).toBe('unauthorized'));
    await new Promise((r) => setTimeout(r, 700));
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
