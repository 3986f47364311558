/**
 * `crashcart events --follow`: the live event stream (`GET
 * /api/v1/events/stream`) read with the contract's SSE parser. When the
 * connection drops (the appliance restarts, a network blip) it reconnects with
 * `Last-Event-ID` set to the last event printed, so nothing is missed or
 * repeated (WHATWG HTML "Server-sent events" 9.2.4). Runs until interrupted.
 */
import { SseParser } from '../../../contract/sse-parser.ts';
import { routeRequest } from '../../../contract/route-request.ts';
import type { CcEvent } from '../../../contract/events.ts';
import type { AdminClient } from '../admin-client.ts';
import { cellText } from './output-format.ts';
import { terminalJson } from '../../core/terminal-text.ts';

/** Reconnect delays: doubling from 1 s, at most 10 s (an appliance restart takes a few seconds). */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;

/** One event as a line: `seq  time  type  node  message`. */
export function eventLine(e: CcEvent): string {
  return [e.seq, e.ts, e.type, e.node_id === null ? '-' : `node ${e.node_id}`, e.message].map(cellText).join('  ') + '\n';
}

/** Follow options. */
export interface FollowOptions {
  json: boolean;
  /** Start after this sequence number (default: only new events). */
  after?: number;
  write: (s: string) => void;
  warn: (s: string) => void;
  /** Stop following (tests); the CLI runs until interrupted. */
  signal?: AbortSignal;
  /** Reconnect delay bounds (tests shorten them). */
  retryMs?: { min: number; max: number };
}

/** Read one connection to its end; returns the last event id seen. */
async function readOnce(client: AdminClient, last: string | null, o: FollowOptions): Promise<string | null> {
  const { path } = routeRequest(
    'GET /api/v1/events/stream',
    last === null && o.after !== undefined ? { query: { last_event_id: o.after } } : {},
  );
  const res = await client.open(path, { accept: 'text/event-stream', ...(last !== null ? { 'last-event-id': last } : {}) });
  const parser = new SseParser();
  res.setEncoding('utf8');
  for await (const chunk of res) {
    for (const m of parser.feed(chunk as string)) {
      let e: CcEvent;
      try {
        e = JSON.parse(m.data) as CcEvent;
      } catch {
        continue; // not an event frame
      }
      o.write(o.json ? terminalJson(JSON.stringify(e)) + '\n' : eventLine(e));
    }
    if (parser.lastEventId !== null) last = parser.lastEventId;
  }
  return last;
}

/** Follow the stream until interrupted (or `signal`), reconnecting with Last-Event-ID. */
export async function followEvents(client: AdminClient, o: FollowOptions): Promise<number> {
  const { min, max } = o.retryMs ?? { min: RETRY_MIN_MS, max: RETRY_MAX_MS };
  let last: string | null = null;
  let delay = min;
  while (!o.signal?.aborted) {
    try {
      last = await readOnce(client, last, o);
      delay = min;
      o.warn(`event stream closed; reconnecting after event ${last ?? 'none'}\n`);
    } catch (e) {
      o.warn(`event stream: ${cellText((e as Error).message)}; retrying in ${delay / 1000} s\n`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, max);
  }
  return 0;
}
