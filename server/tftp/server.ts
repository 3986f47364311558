/**
 * The TFTP listener: decodes requests on port 69, filters (read-only, octet
 * only, confined paths), applies the concurrency caps (queue, then a clear
 * error), and runs each transfer on its own pinned socket.
 */
import { bindError, ccError } from '../errors/cc-error.ts';
import type { EventData } from '../../contract/index.ts';
import { BudgetedEvents, type PublishingSink } from '../events/budgeted-events.ts';
import type { BudgetNames } from '../events/event-budget.ts';
import { DEFAULT_TFTP_EVENTS_PER_MIN } from '../settings/node-plane-defaults.ts';
import type { TftpHooks, TftpVirtualFile } from '../core/boot-hooks.ts';
import type { Logger } from '../core/plugin.ts';
import { intervalLogger, RACK_LOG_INTERVAL_MS } from '../core/interval-logger.ts';
import type { Peer, UdpTransport } from '../net/pinned-udp.ts';
import { decode, encode, ErrorCode, Opcode, type RequestPacket } from './codec.ts';
import { ClientMemory } from './client-memory.ts';
import { errorText, finishText, startText } from './event-text.ts';
import { MalformedPacket } from './malformed-packet.ts';
import { negotiate, WINDOWSIZE_MAX } from './options.ts';
import { checkName, openConfined, realRoots, rootRelative, type Opened, type Refusal } from './resolve-path.ts';
import { memoryFile, memoryVersion } from './memory-file.ts';
import { DEFAULT_RTO, type RtoConfig } from './rto.ts';
import { newStats, type TftpStats } from './stats.ts';
import { Transfer, type TransferResult } from './transfer.ts';
import { settle, type TransferShape } from './final-ack.ts';
import { FileCache } from './file-cache.ts';
import { WholeSource, type PacketSource } from './block-source.ts';
import { NativeTransfer, tftpPump, type PumpSocket } from './native-transfer.ts';
import type { PacketRun } from './packet-run.ts';

/**
 * Concurrent transfers in all. A queued request gets no answer until a slot frees, and firmware gives up after a
 * few silent retries, so a rack that powers on together must fit: 500 machines at once did not fit in 256
 * (bench/storm --machines 500: 369 of them gave up). A transfer costs one socket and a few hundred bytes; the
 * loaders themselves are cached once and shared. dnsmasq's reference setup in the same bench allows 1,000.
 */
export const DEFAULT_MAX_TRANSFERS = 1024;
/** Per client IP: firmware runs one at a time; a NAT'd lab host or a test client may run many. */
export const DEFAULT_MAX_PER_CLIENT = 64;
/** Requests waiting for a slot; beyond this they get "server busy". */
export const DEFAULT_QUEUE_MAX = 1024;
/** A queued request older than this is dropped: the client has retried or given up by then. */
export const QUEUE_WAIT_MS = 15_000;
/** Retries at block 1 before concluding a firmware cannot take its big blksize. */
export const BLOCK1_STALL_RETRIES = 3;

/** Opens the listener socket (port 69). */
export type SocketOpener = (port: number, purpose: string) => Promise<UdpTransport>;
/** Opens one transfer's socket on a fresh port, talking to `peer` only. */
export type TransferSocketOpener = (peer: Peer, onSendError: (e: Error) => void) => Promise<UdpTransport>;

/** What the server is given. */
export interface TftpServerOptions {
  port: number;
  open: SocketOpener;
  /** Per-transfer sockets; default: `open(0, 'TFTP transfer')`. */
  openTransfer?: TransferSocketOpener;
  /**
   * Run the data phase of each transfer in the native pump (native/tftp-pump.c), on a socket it opens here.
   * Unset (tests on an in-memory network, `--tftp-js`) or without the addon: every transfer runs in JavaScript.
   */
  pump?: PumpSocket;
  roots: readonly string[];
  blksizeCap: number;
  maxTransfers?: number;
  maxPerClient?: number;
  queueMax?: number;
  rto?: RtoConfig;
  hooks: TftpHooks;
  /** Where `tftp.*` events go, within the budget below (its `publish` gets those over it). */
  events: PublishingSink;
  /** Transfer events recorded a minute per bucket (setting `tftp_events_per_min`; 0 lifts it). The default when absent. */
  eventsPerMin?: () => number;
  log: Logger;
  now?: () => number;
}

/** What a finished transfer is reported with. */
interface EndContext {
  file: string;
  ip: string;
  nodeId: number | null;
  data: EventData<'tftp.start'>;
  blksize: number;
  windowsize: number;
  /** What the final-ACK rule needs to know of the transfer (final-ack.ts). */
  shape: TransferShape;
}

interface Queued {
  req: RequestPacket;
  from: Peer;
  at: number;
}

const key = (p: Peer) => `${p.address}:${p.port}`;

/** What the server holds of a running transfer, whichever side runs it. */
type Running = Pick<Transfer, 'start' | 'onDuplicateRequest' | 'abort'>;

/** The opened file's descriptor, if it is a file on disk (a rendered file has none). */
const fdOf = (fh: unknown): number => {
  const fd = (fh as { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
};

/** What the TFTP event budget's summaries say. */
const TFTP_BUDGET: BudgetNames = {
  kind: 'tftp_events',
  noun: 'TFTP transfer events',
  sources: ['tftp-nodes', 'tftp'],
  setting: 'tftp_events_per_min',
};

/** A running TFTP server. */
export class TftpServer {
  /** Counters; `active`, `openSockets`, `openFiles` and `queued` are gauges. */
  readonly stats: TftpStats = newStats();
  private listener: UdpTransport | null = null;
  private roots: string[] = [];
  private readonly active = new Map<string, Running | null>();
  private readonly perClient = new Map<string, number>();
  private readonly queue: Queued[] = [];
  private readonly memory = new ClientMemory();
  /** Small files laid out as packets, shared by all transfers (file-cache.ts). */
  readonly cache = new FileCache();
  private readonly now: () => number;
  private stopping = false;
  private readonly closing = new Set<Promise<void>>();
  /** Transfers still being set up (hooks, file, cache, socket): stop() waits for them to see `stopping`. */
  private readonly settingUp = new Set<Promise<void>>();

  /** `tftp.start`, `tftp.finish` and `tftp.error`, recorded within their budget (a request is one datagram from anyone). */
  private readonly events: BudgetedEvents;

  /**
   * `o.log`, each warning or error at most once per interval: a read request is one datagram from any address, so a
   * line per failing request (a record refused by a node-plane limit, a setup that fails) would be a flood
   * (server/core/interval-logger.ts).
   */
  private readonly log: Logger;

  constructor(private readonly o: TftpServerOptions) {
    this.now = o.now ?? (() => performance.now());
    this.log = intervalLogger(o.log, RACK_LOG_INTERVAL_MS, this.now);
    this.events = new BudgetedEvents({
      sink: o.events,
      names: TFTP_BUDGET,
      perMin: o.eventsPerMin ?? (() => DEFAULT_TFTP_EVENTS_PER_MIN),
      now: this.now,
      counted: () => this.stats.eventsUnrecorded++,
    });
  }

  /** Bind the listener. */
  async start(): Promise<void> {
    this.roots = await realRoots(this.o.roots);
    if (this.roots.length === 0) {
      // Not fatal: HTTP boot still works; every TFTP request gets "file not found" until a root exists.
      const e = ccError('CC_ERR_TFTP_NO_ROOT', this.o.roots.join(', ') || 'none configured');
      this.log.warn({ code: e.code, fix: e.fix, roots: this.o.roots }, e.message);
    }
    this.listener = await this.o.open(this.o.port, 'TFTP');
    this.stats.openSockets++;
    this.listener.onMessage((buf, from) => this.onRequest(buf, from));
  }

  /** The bound listener port (useful with port 0 in tests). */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** Abort all transfers and close every socket. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    this.stats.queued = 0;
    for (const t of this.active.values()) t?.abort('server shutting down');
    // A transfer still in setup has no Transfer to abort yet: its setup sees `stopping` and releases its slot.
    await Promise.allSettled([...this.settingUp]);
    await Promise.allSettled([...this.closing]);
    if (this.listener) {
      await this.listener.close();
      this.stats.openSockets--;
      this.listener = null;
    }
  }

  private reply(to: Peer, code: number, message: string): void {
    this.listener?.send(encode({ op: Opcode.ERROR, code, message }), to).catch(() => {
      this.stats.sendErrors++;
    });
  }

  private onRequest(buf: Buffer, from: Peer): void {
    this.stats.requests++;
    let p;
    try {
      p = decode(buf);
    } catch (e) {
      if (!(e instanceof MalformedPacket)) throw e;
      this.stats.malformed++;
      this.log.debug({ from, offset: e.offset, reason: e.reason }, 'dropped malformed TFTP request');
      return;
    }
    if (p.op === Opcode.WRQ) {
      this.stats.writeRefused++;
      return this.reply(from, ErrorCode.ACCESS_VIOLATION, 'this server is read-only: uploads are refused');
    }
    if (p.op !== Opcode.RRQ) {
      this.stats.stray++;
      return;
    }
    const mode = p.mode.toLowerCase();
    if (mode !== 'octet') {
      this.stats.refused++;
      // RFC 1350 netascii would need CR/LF rewriting; boot loaders always ask for octet.
      const msg =
        mode === 'netascii'
          ? 'netascii mode is not served: request octet (binary) mode'
          : `transfer mode "${p.mode}" is not supported: use octet`;
      return this.reply(from, ErrorCode.ILLEGAL_OPERATION, msg);
    }
    const k = key(from);
    if (this.active.has(k) || this.queue.some((q) => key(q.from) === k)) {
      // The client re-sent its request because our first answer was lost or slow.
      this.stats.duplicateRequests++;
      this.active.get(k)?.onDuplicateRequest();
      return;
    }
    if (this.stopping) return;
    if (!this.hasSlot(from.address)) {
      if (this.queue.length >= (this.o.queueMax ?? DEFAULT_QUEUE_MAX)) {
        this.stats.busyRefused++;
        return this.reply(from, ErrorCode.NOT_DEFINED, `server busy: ${this.active.size} transfers running; retry shortly`);
      }
      this.queue.push({ req: p, from, at: this.now() });
      this.stats.queued = this.queue.length;
      return;
    }
    this.begin(p, from);
  }

  private hasSlot(ip: string): boolean {
    return (
      this.active.size < (this.o.maxTransfers ?? DEFAULT_MAX_TRANSFERS) &&
      (this.perClient.get(ip) ?? 0) < (this.o.maxPerClient ?? DEFAULT_MAX_PER_CLIENT)
    );
  }

  /** Start queued requests that now fit, dropping stale ones. */
  private drain(): void {
    const now = this.now();
    for (let i = 0; i < this.queue.length && !this.stopping;) {
      const q = this.queue[i]!;
      if (now - q.at > QUEUE_WAIT_MS) {
        this.queue.splice(i, 1);
        this.stats.queueExpired++;
      } else if (this.hasSlot(q.from.address)) {
        this.queue.splice(i, 1);
        this.begin(q.req, q.from);
      } else i++;
    }
    this.stats.queued = this.queue.length;
  }

  private begin(req: RequestPacket, from: Peer): void {
    const k = key(from);
    this.active.set(k, null); // reserve the slot before any await, so the caps hold
    this.perClient.set(from.address, (this.perClient.get(from.address) ?? 0) + 1);
    this.stats.active = this.active.size;
    const setup = this.run(req, from)
      .catch((e: unknown) => {
        this.log.error({ err: e, from }, 'TFTP transfer setup failed');
        this.release(k, from.address);
      })
      .finally(() => this.settingUp.delete(setup));
    this.settingUp.add(setup);
  }

  private release(k: string, ip: string): void {
    this.active.delete(k);
    const n = (this.perClient.get(ip) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(ip);
    else this.perClient.set(ip, n);
    this.stats.active = this.active.size;
    this.drain();
  }

  /** The core's own answer for this name (rendered or mapped), else the file from the roots. */
  private async open(ip: string, requested: string): Promise<Opened | Refusal> {
    const file = rootRelative(requested);
    const bad = checkName(file);
    if (bad) return bad;
    let v: TftpVirtualFile | null = null;
    try {
      v = (await this.o.hooks.tftpVirtual?.(ip, file)) ?? null;
    } catch (e) {
      this.log.warn({ err: e, ip, file }, 'tftpVirtual failed; serving from the roots');
    }
    if (v === null) return openConfined(this.roots, file);
    if ('data' in v) {
      const d = v.data;
      return { ok: true, fh: memoryFile(d), size: d.length, realPath: `(rendered) ${file}`, root: '(rendered)', version: memoryVersion(d) };
    }
    return openConfined(await realRoots([v.dir]), v.name);
  }

  private async run(req: RequestPacket, from: Peer): Promise<void> {
    const k = key(from);
    const ip = from.address;
    let file = req.filename;
    try {
      file = await this.o.hooks.tftpFileFor(ip, req.filename);
    } catch (e) {
      this.log.warn({ err: e, ip }, 'tftpFileFor failed; serving the requested name');
    }
    const nodeId = await this.o.hooks.nodeIdForIp(ip).catch(() => null);
    const opened = await this.open(ip, file);
    if (!opened.ok) {
      this.stats.refused++;
      this.reply(from, opened.code, `${opened.message}: ${req.filename}`);
      if (opened.code === ErrorCode.FILE_NOT_FOUND) this.o.hooks.fileMissing?.(ip, req.filename, nodeId);
      this.events.record('tftp.error', {
        node_id: nodeId,
        message: errorText(req.filename, opened.message),
        data: { file: req.filename, served: file, client: ip, reason: opened.message, bytes: 0 },
      });
      return this.release(k, ip);
    }
    this.stats.openFiles++;
    const neg = negotiate(req.options, {
      blksizeCap: Math.min(this.o.blksizeCap, this.memory.blksizeCap(ip, this.now())),
      windowsizeCap: WINDOWSIZE_MAX,
      fileSize: opened.size,
    });
    let run: PacketRun | null = null;
    if (this.cache.fits(opened.size)) {
      try {
        run = await this.cache.get(opened.version, opened.fh, opened.size, neg.blksize);
      } catch (e) {
        // Streaming reports a read error in the transfer itself (error packet + tftp.error).
        this.log.warn({ err: e, file }, 'TFTP: could not cache the file; streaming it');
      }
    }
    const data = {
      file,
      requested: req.filename,
      client: ip,
      size: opened.size,
      blksize: neg.blksize,
      windowsize: neg.windowsize,
      options: neg.requested,
    };
    const shape = { size: opened.size, blksize: neg.blksize, windowsize: neg.windowsize, hadOack: neg.oack !== null };
    const ctx = { file, ip, nodeId, data, blksize: neg.blksize, windowsize: neg.windowsize, shape };
    const common = {
      peer: from,
      size: opened.size,
      neg,
      rto: this.o.rto ?? DEFAULT_RTO,
      block1StallRetries: BLOCK1_STALL_RETRIES,
      now: this.now,
      counters: this.stats,
      onStart: () => {
        this.events.record('tftp.start', { node_id: nodeId, message: startText(file, neg.blksize, neg.windowsize), data });
      },
    };
    const fd = fdOf(opened.fh);
    if (this.o.pump && tftpPump.addon && (run !== null || fd >= 0)) {
      if (this.stopping) {
        await opened.fh.close().catch(() => undefined);
        this.stats.openFiles--;
        return this.release(k, ip);
      }
      const t = new NativeTransfer({
        ...common,
        at: this.o.pump,
        packets: run?.laidOut ?? null,
        fd: run ? -1 : fd,
        onEnd: (r) => this.finishTransfer(r, ctx, k, () => opened.fh.close()),
      });
      this.active.set(k, t);
      this.stats.openSockets++;
      this.stats.nativeTransfers++;
      try {
        t.start(); // opens the socket: a failure is a setup failure, as a failed bind below
      } catch (e) {
        this.stats.openSockets--;
        this.stats.nativeTransfers--;
        this.active.set(k, null);
        await opened.fh.close().catch(() => undefined);
        this.stats.openFiles--;
        throw bindError(e, 'TFTP transfer', 0);
      }
      return;
    }
    const source: PacketSource | undefined = run ? new WholeSource(run) : undefined;
    let sock: UdpTransport;
    try {
      const onSendError = () => {
        this.stats.sendErrors++;
      };
      sock = this.o.openTransfer ? await this.o.openTransfer(from, onSendError) : await this.o.open(0, 'TFTP transfer');
    } catch (e) {
      await opened.fh.close().catch(() => undefined);
      this.stats.openFiles--;
      throw e;
    }
    this.stats.openSockets++;
    if (this.stopping) {
      // stop() ran while this transfer was being set up (cache load, socket): it has no Transfer to abort.
      await Promise.allSettled([sock.close(), opened.fh.close()]);
      this.stats.openSockets--;
      this.stats.openFiles--;
      return this.release(k, ip);
    }
    const t = new Transfer({
      ...common,
      sock,
      fh: opened.fh,
      source,
      onEnd: (r) => this.finishTransfer(r, ctx, k, () => Promise.allSettled([sock.close(), opened.fh.close()])),
    });
    this.active.set(k, t);
    t.start();
  }

  /** A transfer ended (either side): report it, then free its socket and file and its slot. */
  private finishTransfer(r: TransferResult, ctx: EndContext, k: string, close: () => Promise<unknown>): void {
    this.ended(r, ctx);
    const closed = close()
      .catch(() => undefined)
      .then(() => {
        this.stats.openSockets--;
        this.stats.openFiles--;
        this.closing.delete(closed);
        this.release(k, ctx.ip);
      });
    this.closing.add(closed);
  }

  private ended(given: TransferResult, c: EndContext): void {
    const r = settle(given, c.shape);
    this.stats.retransmits += r.retransmits;
    this.stats.bytesSent += r.bytes;
    const data = {
      ...c.data,
      bytes: r.bytes,
      duration_ms: Math.round(r.durationMs),
      retransmits: r.retransmits,
      reason: r.reason,
      detail: r.detail,
    };
    if (r.reason === 'complete' || r.reason === 'final-ack-unseen') {
      this.stats.completed++;
      const unseen = r.reason === 'final-ack-unseen';
      if (unseen) this.stats.finalAckUnseen++;
      const text = finishText(c.file, r.bytes, c.blksize, c.windowsize, r.durationMs);
      this.events.record('tftp.finish', { node_id: c.nodeId, message: unseen ? `${text}, final ACK not seen` : text, data });
      return;
    }
    if (r.reason === 'probe') {
      // A PXE ROM asked for tsize and ended with an error to re-request: normal, not a failure.
      this.stats.probes++;
      return;
    }
    this.stats.failed++;
    if (r.reason === 'stall-block1') this.memory.lowerBlksize(c.ip, this.now());
    this.events.record('tftp.error', { node_id: c.nodeId, message: errorText(c.file, r.detail), data });
  }
}
