/**
 * The tray's view of the appliance: GET /api/v1/status once, then again on each `service.*`
 * event from the live stream (the same SSE parser as the renderer). No polling.
 */
import { SseParser } from '../contract/sse-parser.ts';
import type { ApplianceStatus, ServiceStatus } from '../contract/system.ts';
import { routeRequest } from '../contract/route-request.ts';

function isServiceEvent(data: string): boolean {
  try {
    const ev = JSON.parse(data) as { type?: unknown };
    return typeof ev.type === 'string' && ev.type.startsWith('service.');
  } catch {
    return false;
  }
}

/** Start watching; returns stop(). `token` is read per request (it rotates); `fetchImpl` is swappable (pinned net.fetch, tests). */
export function watchStatus(
  baseUrl: string,
  token: () => string,
  onServices: (s: ServiceStatus[]) => void,
  fetchImpl: typeof fetch = fetch,
): () => void {
  const abort = new AbortController();
  const headers = (): Record<string, string> => ({ Authorization: `Bearer ${token()}` });
  let lastId: string | null = null;
  const refresh = async (): Promise<void> => {
    try {
      const res = await fetchImpl(`${baseUrl}${routeRequest('GET /api/v1/status').path}`, { headers: headers(), signal: abort.signal });
      if (res.ok) onServices(((await res.json()) as Partial<ApplianceStatus>).services ?? []);
    } catch {
      // The stream loop below retries; the tray keeps its last state meanwhile.
    }
  };
  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      await refresh();
      try {
        const h: Record<string, string> = { ...headers(), Accept: 'text/event-stream' };
        if (lastId) h['Last-Event-ID'] = lastId;
        const res = await fetchImpl(`${baseUrl}${routeRequest('GET /api/v1/events/stream').path}`, { headers: h, signal: abort.signal });
        if (res.ok && res.body) {
          const parser = new SseParser();
          const decoder = new TextDecoder();
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            for (const m of parser.feed(decoder.decode(chunk, { stream: true }))) {
              if (m.id) lastId = m.id;
              if (isServiceEvent(m.data)) await refresh();
            }
          }
        }
      } catch {
        // dropped: back off, then resume from lastId
      }
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void loop();
  return () => abort.abort();
}
