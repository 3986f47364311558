/**
 * Serving boot assets on the node plane (microkernel, first-stage loaders, OS
 * images): names confined to a root (no dot segments, no symlink out of it),
 * ETag/Last-Modified with 304s, single byte ranges (RFC 9110 14) with 206/416,
 * HEAD. Bodies go out through sendfile(2) when the addon is built
 * (asset-sendfile.ts); otherwise small files come from the in-memory cache as
 * slices of one Buffer, large ones are streamed in big chunks (asset-cache.ts,
 * asset-stream.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Stats } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AssetCache } from './asset-cache.ts';
import { ChunkPool, streamFileRange } from './asset-stream.ts';
import { ifRangeHolds, parseRange } from './byte-range.ts';
import { canSendfile, SEND_STALL_MS, sendfileAddon, sendfileRange, socketAssigned } from './asset-sendfile.ts';

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.ipxe': 'text/plain; charset=utf-8',
  '.iso': 'application/x-iso9660-image',
};

/** Refuse names a node could use to leave the root or read hidden files: `..`, `.x`, empty segments, NUL, `\`. */
function badName(rel: string): boolean {
  if (rel.length === 0 || rel.length > 1024 || rel.includes('\0') || rel.includes('\\')) return true;
  return rel.split('/').some((seg) => seg === '' || seg.startsWith('.'));
}

/** The plane's own 404 (its error body with the fix). */
function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

/** Sends files from roots; one per node plane. */
export class AssetServer {
  private readonly roots = new Map<string, string>();
  private readonly pool = new ChunkPool();

  /**
   * @param cache files kept in memory for the copying path
   * @param zeroCopy send bodies with sendfile(2) where the addon is built (`--http-copy` turns it off to compare)
   * @param sendStallMs a sendfile(2) body that makes no progress this long is cut (tests shorten it)
   */
  constructor(
    readonly cache = new AssetCache(),
    private readonly zeroCopy = true,
    private readonly sendStallMs = SEND_STALL_MS,
  ) {}

  /** The real path of a root (remembered once found: a missing root may appear later, so a miss is not). */
  private realRoot(root: string): string | null {
    let r = this.roots.get(root);
    if (r === undefined) {
      try {
        r = fs.realpathSync.native(root);
      } catch {
        return null;
      }
      this.roots.set(root, r);
    }
    return r;
  }

  /**
   * The regular file `rel` names inside `root` (symlinks resolved, still inside), or null. Synchronous on
   * purpose, as nginx does it: boot assets sit on the appliance's own disk and a file served a moment ago has
   * its inode and path in the kernel's caches, so realpath(3) and stat(2) take microseconds, while sending
   * each to the thread pool costs two wake-ups per request, which on a busy machine were most of a small
   * Range request's latency (bench/http).
   */
  private locate(root: string, rel: string): { real: string; st: Stats } | null {
    if (badName(rel)) return null;
    const base = this.realRoot(root);
    if (!base) return null;
    try {
      const real = fs.realpathSync.native(path.join(base, rel));
      const st = fs.statSync(real);
      return st.isFile() && (real === base || real.startsWith(base + path.sep)) ? { real, st } : null;
    } catch {
      return null;
    }
  }

  /** Send `rel` (already URL-decoded) from `root`, or the plane's 404. */
  async send(req: FastifyRequest, reply: FastifyReply, root: string, rel: string): Promise<FastifyReply> {
    return this.sendFirst(req, reply, [root], rel);
  }

  /** Send `rel` from the first of `roots` that has it (an operator's copy before the shipped one), or the plane's 404. */
  async sendFirst(req: FastifyRequest, reply: FastifyReply, roots: readonly string[], rel: string): Promise<FastifyReply> {
    let found: { real: string; st: Stats } | null = null;
    for (const root of roots) if (!found) found = this.locate(root, rel);
    if (!found) return notFound(reply);
    const { real, st } = found;
    const size = st.size;
    const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    reply.header('accept-ranges', 'bytes').header('etag', etag).header('last-modified', st.mtime.toUTCString());
    reply.header('cache-control', 'public, max-age=0').type(TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream');
    // RFC 9110 13.1.2/13.1.3: If-None-Match wins over If-Modified-Since.
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if (
      inm
        ? inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')
        : ims && Date.parse(ims) >= Math.floor(st.mtimeMs / 1000) * 1000
    )
      return reply.code(304).send();
    const ifRange = req.headers['if-range'];
    const range = ifRangeHolds(typeof ifRange === 'string' ? ifRange : undefined, etag, st.mtimeMs)
      ? parseRange(req.headers.range, size)
      : null;
    if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${size}`).send();
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
    const len = size === 0 ? 0 : end - start + 1;
    reply.header('content-length', len);
    // Fastify's HEAD route measures a Buffer payload and resumes a stream: an empty stream keeps our length.
    if (req.method === 'HEAD') return reply.send(Readable.from([]));
    if (len === 0) return reply.send(Buffer.alloc(0));
    if (this.zeroCopy && sendfileAddon.addon) {
      await socketAssigned(reply.raw); // queued behind the connection's previous response
      if (!reply.raw.socket || reply.raw.destroyed) {
        reply.hijack(); // the client went away while it waited: nothing to send
        reply.raw.destroy();
        return reply;
      }
    }
    if (this.zeroCopy && canSendfile(reply.raw)) {
      this.hijackHead(reply);
      await sendfileRange(reply.raw, real, start, end, this.sendStallMs);
      return reply;
    }
    if (this.cache.fits(size)) {
      const version = `${st.dev}:${st.ino}:${size}:${st.mtimeMs}:${st.ctimeMs}`;
      const data = await this.cache.get(real, version, size);
      if (data.length === size) return reply.send(start === 0 && end === size - 1 ? data : data.subarray(start, end + 1));
      // The file changed between stat and read: fall through to streaming what is there now.
    }
    this.hijackHead(reply);
    await streamFileRange(reply.raw, real, start, end, this.pool);
    return reply;
  }

  /** The handler writes the body itself (reply hijacked) after this status line and headers; onResponse hooks still run at 'finish'. */
  private hijackHead(reply: FastifyReply): void {
    const status = reply.statusCode;
    const headers = reply.getHeaders();
    reply.hijack();
    reply.raw.writeHead(status, headers as OutgoingHttpHeaders);
  }
}
