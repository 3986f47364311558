/**
 * The rack's downloads of the microkernel's kernel and initrd: GETs on one keep-alive TCP connection per machine,
 * whose bytes land in one 1 MiB buffer shared by every machine (net.Socket's `onread`: libuv reads straight into
 * it, and the callback runs before the next read) and are counted, not kept. Node's http client read the same
 * bodies into a fresh 64 KiB Buffer per read with a stream 'data' event each: 66,000 per 100-machine storm, 4.3 GB
 * of short-lived Buffers through the rack's young generation, and a rack at 100 % of one core whose own CPU and
 * collector state set the storm's time more than the server did (docs/perf/changes.md, "A cheaper rack").
 * Only status 200 with a Content-Length is accepted, as the boot assets are served; anything else is an error.
 */
import net from 'node:net';

const SINK = Buffer.allocUnsafe(1 << 20);
const HEAD_MAX = 16 * 1024;

interface Pending {
  head: Buffer | null; // bytes of the response head so far; null once the body started
  left: number; // body bytes still to come
  bytes: number;
  resolve: (bytes: number) => void;
  reject: (e: Error) => void;
}

/** One connection of a simulated machine to the boot server, for GETs of large bodies one after the other. */
export class BodySink {
  private sock: net.Socket | null = null;
  private pending: Pending | null = null;

  constructor(
    private readonly origin: URL,
    private readonly localAddress: string,
  ) {}

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({
        host: this.origin.hostname,
        port: Number(this.origin.port || 80),
        localAddress: this.localAddress,
        onread: { buffer: SINK, callback: (n: number) => (this.onRead(n), true) },
      });
      sock.once('connect', () => resolve(sock));
      sock.on('error', (e) => {
        reject(e);
        this.fail(e);
      });
      sock.once('close', () => {
        if (this.sock === sock) this.sock = null;
        this.fail(new Error('the server closed the connection mid-response'));
      });
    });
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  private onRead(n: number): void {
    const p = this.pending;
    if (!p) {
      this.fail(new Error(`${n} bytes with no request outstanding`));
      this.sock?.destroy();
      return;
    }
    let body = n;
    if (p.head) {
      const prev = p.head.length;
      p.head = Buffer.concat([p.head, SINK.subarray(0, Math.min(n, HEAD_MAX))]);
      const end = p.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (p.head.length >= HEAD_MAX) this.abort(new Error('a response head longer than 16 KiB'));
        return;
      }
      const head = p.head.subarray(0, end).toString('latin1');
      p.head = null;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (status !== '200') return this.abort(new Error(`HTTP ${status ?? '(no status line)'}`));
      if (length === undefined) return this.abort(new Error('a body without Content-Length'));
      p.left = Number(length);
      body = n - (end + 4 - prev);
    }
    if (body > p.left) return this.abort(new Error(`${body - p.left} bytes past the body's Content-Length`));
    p.left -= body;
    p.bytes += body;
    if (p.left === 0) {
      this.pending = null;
      p.resolve(p.bytes);
    }
  }

  private abort(e: Error): void {
    this.fail(e);
    this.sock?.destroy();
    this.sock = null;
  }

  /** GET `url` (on this sink's origin); resolves the body's size once all of it arrived. */
  async get(url: string): Promise<number> {
    const u = new URL(url);
    if (u.origin !== this.origin.origin) throw new Error(`${url} is not on ${this.origin.origin}`);
    if (this.pending) throw new Error('one request at a time');
    this.sock ??= await this.connect();
    const done = new Promise<number>((resolve, reject) => {
      this.pending = { head: Buffer.alloc(0), left: 0, bytes: 0, resolve, reject };
    });
    this.sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: keep-alive\r\n\r\n`);
    return done;
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }
}
