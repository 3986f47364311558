/**
 * `events --follow` resumes where it stopped: when the stream ends (an
 * appliance restart), the next request carries `Last-Event-ID` with the last
 * event printed, and nothing is printed twice. The admin client is replaced by
 * an in-memory one that serves SSE frames split at awkward places.
 */
import { describe, it, expect } from 'vitest';
import { Readable } from 'node:stream';
import type http from 'node:http';
import { followEvents } from '../../server/cli/route/events-follow.ts';
import type { AdminClient } from '../../server/cli/admin-client.ts';
import { sseFrame } from '../../server/http/routes/admin-events.ts';
import { followOnce } from './follow-once.ts';
import type { CcEvent } from '../../contract/index.ts';

const ev = (seq: number): CcEvent => ({
  seq,
  ts: '2026-11-30T00:00:00.000Z',
  type: 'node.bound',
  node_id: seq,
  mac: null,
  message: `bound ${seq}`,
  data: { policy: 'p', explicit: false, hostname: null },
});

describe('events --follow', () => {
  it('reconnects with Last-Event-ID after a dropped stream and prints each event once', async () => {
    const asked: { path: string; lastId: string | undefined }[] = [];
    const abort = new AbortController();
    const streams = [
      // First connection: two events, the second frame split mid-line, then the connection drops.
      ['retry: 2000\n\n', sseFrame(ev(1)), sseFrame(ev(2)).slice(0, 9), sseFrame(ev(2)).slice(9)],
      // Second: the appliance resumes after 2 (it honours Last-Event-ID).
      [sseFrame(ev(3)), ': keep-alive\n\n', sseFrame(ev(4))],
    ];
    const client: AdminClient = {
      baseUrl: 'memory:',
      call: () => Promise.reject(new Error('not used')),
      open: (path, headers) => {
        asked.push({ path, lastId: headers?.['last-event-id'] });
        const chunks = streams.shift();
        if (!chunks) {
          abort.abort();
          return Promise.reject(new Error('gone'));
        }
        return Promise.resolve(Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as http.IncomingMessage);
      },
    };
    let out = '';
    const warnings: string[] = [];
    await followEvents(client, {
      json: true,
      write: (s) => (out += s),
      warn: (s) => warnings.push(s),
      signal: abort.signal,
      retryMs: { min: 1, max: 2 },
    });
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as CcEvent).seq),
    ).toEqual([1, 2, 3, 4]);
    expect(asked[0]).toEqual({ path: '/api/v1/events/stream', lastId: undefined });
    expect(asked[1]!.lastId).toBe('2');
    expect(asked[2]!.lastId).toBe('4');
    expect(warnings[0]).toContain('reconnecting after event 2');
  });

  it('prints a terminal-safe line per event by default', async () => {
    const out = await followOnce({ ...ev(7), message: 'host \u001b]0;pwned\u0007 bound' }, false);
    expect(out).toBe('7  2026-11-30T00:00:00.000Z  node.bound  node 7  host ?]0;pwned? bound\n');
  });
});
