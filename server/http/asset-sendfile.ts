/**
 * Sending a byte range of a file with sendfile(2) through Crashcart's own
 * N-API addon (native/sendfile.c, built by build/native.mjs): the kernel moves
 * page-cache pages to the socket, so the main thread copies no byte of the
 * microkernel or an OS image (Node has no sendfile; copying cost 230-440 ms of
 * CPU per GB against nginx's 60-150, and most of the 100-machine storm's
 * server CPU). When the addon is not built for this machine the node plane
 * sends from memory or streams as before (asset-server.ts).
 */
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { addonPath, loadAddon } from '../net/native-addon.ts';

interface Addon {
  start(socketFd: number, fileFd: number, offset: number, length: number, done: (errno: number, sent: number) => void): object;
  cancel(job: object): void;
  sent(job: object): number;
  /** Writable events the job has handled. */
  turns(job: object): number;
  /** The most one writable event sends before the sender thread's loop turns. */
  readonly slice: number;
  /** Sender threads (cc-sendfile) this process runs once a body went out, and those running. */
  threads(): { planned: number; running: number };
}

/**
 * A body that makes no progress this long is cut (as nginx's send_timeout): a client that stops reading would
 * otherwise hold its socket, the job's descriptor and the file's for as long as it keeps the connection open.
 * Progress is bytes the kernel took; a reader so slow that it frees less than a third of its socket buffer in
 * two minutes (a few KB/s) would need hours for a microkernel and counts as stalled.
 */
export const SEND_STALL_MS = 120_000;

/** The addon's path for this platform and architecture, relative to the install root. */
export const SENDFILE_ADDON = addonPath('sendfile');

/** The loaded addon, or why it is not there (said once in the start log). */
export const sendfileAddon = loadAddon<Addon>('sendfile');

/** Bodies sent through the addon since start: what tests and the bench read to know the path was taken. */
export const sendfileStats = {
  started: 0,
  completed: 0,
  cancelled: 0,
  failed: 0,
  stalled: 0,
  /** responses queued behind their connection's previous one, waiting for it */ waiting: 0,
};

/** The socket's descriptor, or -1 (a TLS or otherwise wrapped socket has none of its own). */
function socketFd(res: ServerResponse): number {
  const handle = (res.socket as unknown as { _handle?: { fd?: number } } | null)?._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}

/**
 * Resolves once `res` owns its connection's socket. Node's HTTP server queues a response whose request arrived
 * while the one before it on the same keep-alive connection was still going out, and gives it the socket when
 * that one finishes; until then `res.socket` is null. A body sent on sender threads makes that common: the client
 * has the last byte and asks for the next file before Node's thread hears the job ended. Without the wait such a
 * response had no descriptor for sendfile(2) and fell back to reading the whole file into memory and writing it
 * from the main thread (in the 100-machine storm every initrd after its kernel: 35 MB copied per machine).
 */
export function socketAssigned(res: ServerResponse): Promise<void> {
  const conn = res.req?.socket;
  if (res.socket || res.destroyed || res.writableEnded || !conn || conn.destroyed) return Promise.resolve();
  sendfileStats.waiting++;
  return new Promise((resolve) => {
    const done = () => {
      res.off('socket', done).off('close', done);
      forget();
      sendfileStats.waiting--;
      resolve();
    };
    // A queued response gets neither 'socket' nor 'close' when its client goes away: only its connection closes.
    const forget = onConnectionClose(conn, done);
    res.on('socket', done).on('close', done);
  });
}

/** Per connection, the queued responses waiting for it: one 'close' listener however many requests a client pipelines. */
const waitingOn = new WeakMap<Socket, Set<() => void>>();

function onConnectionClose(conn: Socket, fn: () => void): () => void {
  const set = waitingOn.get(conn) ?? watchClose(conn);
  set.add(fn);
  return () => void set.delete(fn);
}

function watchClose(conn: Socket): Set<() => void> {
  const set = new Set<() => void>();
  waitingOn.set(conn, set);
  conn.once('close', () => {
    waitingOn.delete(conn);
    for (const f of set) f();
  });
  return set;
}

/** True when this response can go out through sendfile(2). */
export function canSendfile(res: ServerResponse): boolean {
  return sendfileAddon.addon !== null && socketFd(res) >= 0;
}

/**
 * Write bytes `start..end` (inclusive) of `file` to `res`, whose status and headers are set, and end it.
 * The headers are flushed first and the socket drained, so the body follows them on the wire; Node's HTTP
 * server keeps a pipelined next response queued until `res.end()`. Resolves when done or when the client
 * went away; a failure after the headers went out can only cut the connection.
 */
export async function sendfileRange(res: ServerResponse, file: string, start: number, end: number, stallMs = SEND_STALL_MS): Promise<void> {
  const addon = sendfileAddon.addon;
  if (!addon) throw new Error('sendfileRange without the addon (check canSendfile first)');
  let fd = -1;
  let job: object | null = null;
  let onClose: (() => void) | null = null;
  let stallCheck: NodeJS.Timeout | null = null;
  try {
    fd = fs.openSync(file, 'r');
    res.flushHeaders();
    const sock = res.socket;
    if (!sock || sock.destroyed) return void res.destroy(); // no socket of its own (canSendfile said yes a moment ago): cut, never hang
    if (sock.writableLength > 0)
      await new Promise<void>((resolve) => {
        const done = () => {
          sock.off('drain', done).off('close', done);
          resolve();
        };
        sock.on('drain', done).on('close', done);
      });
    const sfd = socketFd(res);
    if (sock.destroyed || sfd < 0) return void res.destroy();
    const result = await new Promise<{ errno: number; sent: number } | null>((resolve) => {
      onClose = () => {
        if (job) {
          addon.cancel(job);
          sendfileStats.cancelled++;
        }
        resolve(null);
      };
      res.once('close', onClose);
      sendfileStats.started++;
      job = addon.start(sfd, fd, start, end - start + 1, (errno, sent) => {
        job = null;
        resolve({ errno, sent });
      });
      let seen = -1;
      stallCheck = setInterval(() => {
        const now = job ? addon.sent(job) : seen;
        if (job && now === seen) {
          sendfileStats.stalled++;
          res.destroy(new Error(`no progress sending ${file} for ${stallMs} ms: the client stopped reading`)); // 'close' cancels the job
        }
        seen = now;
      }, stallMs).unref();
    });
    if (result === null) return; // the client went away; the job is cancelled
    if (result.errno === 0) {
      sendfileStats.completed++;
      res.end();
    } else {
      sendfileStats.failed++;
      res.destroy(new Error(`sendfile of ${file} stopped after ${result.sent} bytes (errno ${result.errno})`));
    }
  } catch (e) {
    res.destroy(e as Error);
  } finally {
    if (stallCheck) clearInterval(stallCheck);
    if (onClose) res.removeListener('close', onClose);
    if (fd >= 0) fs.closeSync(fd);
  }
}
