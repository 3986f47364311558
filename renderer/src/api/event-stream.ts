/**
 * The live event stream (`GET /api/v1/events/stream`). Read with fetch rather than
 * EventSource so the same code carries a Bearer token (Electron) or the session cookie
 * (browser), and resumes with `Last-Event-ID` after a drop. One stream per tab; screens
 * subscribe to it.
 */
import type { CcEvent } from '../../../contract/events.ts';
import { authHeaders, routeUrl } from './client.ts';
import { SseParser } from '../../../contract/sse-parser.ts';
import { ref, type Ref } from 'vue';

/** Connection state shown in the header. */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'stopped';

type Listener = (e: CcEvent) => void;

/** A resumable subscription to the appliance's events. */
export class EventStream {
  /** Reactive connection state. */
  readonly state: Ref<StreamState> = ref('connecting');
  private listeners = new Set<Listener>();
  private reconnectListeners = new Set<() => void>();
  private abort: AbortController | null = null;
  private lastId: string | null = null;
  private stopped = false;
  private delayMs = 500;
  private running = false;

  /** Start reading; reconnects by itself until stop(). */
  start(): void {
    this.stopped = false;
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  /** Stop for good. */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.state.value = 'stopped';
  }

  /** Subscribe; returns the unsubscribe function. */
  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called after a reconnect (so lists can refetch what a gap may have hidden). */
  onReconnect(fn: () => void): () => void {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
        if (this.lastId !== null) headers['Last-Event-ID'] = this.lastId;
        const res = await fetch(routeUrl('GET /api/v1/events/stream'), { headers, credentials: 'same-origin', signal: this.abort.signal });
        if (res.status === 401 || res.status === 403) {
          // The session ended (appliance restarted with a new secret, cookie expired): retrying cannot help.
          this.state.value = 'unauthorized';
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        this.state.value = 'live';
        this.delayMs = 500;
        if (!first) for (const fn of this.reconnectListeners) fn();
        first = false;
        await this.read(res.body);
      } catch {
        // Fall through to the back-off below; the header shows "reconnecting".
      }
      if (this.stopped) break;
      this.state.value = 'reconnecting';
      await new Promise((r) => setTimeout(r, this.delayMs));
      this.delayMs = Math.min(this.delayMs * 2, 10_000);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const msg of parser.feed(decoder.decode(value, { stream: true }))) {
        if (msg.id !== null) this.lastId = msg.id;
        this.dispatch(msg.data);
      }
    }
  }

  private dispatch(data: string): void {
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    if (ev === null || typeof ev !== 'object' || typeof (ev as CcEvent).type !== 'string') return;
    for (const fn of this.listeners) fn(ev as CcEvent);
  }
}
