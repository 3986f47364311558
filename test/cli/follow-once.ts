/** What `events --follow` prints for one stream that carries one event and then drops, ending the follow. */
import { Readable } from 'node:stream';
import type http from 'node:http';
import type { CcEvent } from '../../contract/index.ts';
import type { AdminClient } from '../../server/cli/admin-client.ts';
import { followEvents } from '../../server/cli/route/events-follow.ts';
import { sseFrame } from '../../server/http/routes/admin-events.ts';

/** Follow a stream holding `e` alone; the reconnect after it is refused and stops the follow. */
export async function followOnce(e: CcEvent, json: boolean): Promise<string> {
  const abort = new AbortController();
  let n = 0;
  const client: AdminClient = {
    baseUrl: 'memory:',
    call: () => Promise.reject(new Error('not used')),
    open: () => {
      if (n++) {
        abort.abort();
        return Promise.reject(new Error('gone'));
      }
      return Promise.resolve(Readable.from([Buffer.from(sseFrame(e))]) as unknown as http.IncomingMessage);
    },
  };
  let out = '';
  await followEvents(client, { json, write: (s) => (out += s), warn: () => {}, signal: abort.signal, retryMs: { min: 1, max: 1 } });
  return out;
}
