/**
 * An in-memory DhcpIo for plugin tests: sockets are queues, the probe answers
 * what the test scripts, the link flips when the test says so. No real packet
 * leaves the process.
 */
import type { CcEvent, EventOf, EventType } from '../../contract/index.ts';
import { makeEvent, ofType } from '../support/events.ts';
import type { EventInput, EventSink } from '../../server/events/event-log.ts';
import type { Peer, UdpTransport } from '../../server/net/pinned-udp.ts';
import type { LinkState } from '../../server/net/link-state.ts';
import type { DhcpIo, DhcpIoFactory } from '../../server/dhcp/io.ts';
import type { ProbeResult } from '../../server/dhcp/probe.ts';

/** One datagram the plugin sent. */
export interface Sent {
  port: number;
  buf: Uint8Array;
  to: Peer;
}

/** A socket on memory. */
class MemorySocket implements UdpTransport {
  private handler: ((buf: Buffer, from: Peer) => void) | null = null;
  closed = false;
  constructor(
    readonly port: number,
    private readonly sent: Sent[],
  ) {}
  async send(buf: Uint8Array, to: Peer): Promise<void> {
    this.sent.push({ port: this.port, buf: new Uint8Array(buf), to });
  }
  onMessage(fn: (buf: Buffer, from: Peer) => void): void {
    this.handler = fn;
  }
  /** Hand a datagram to the server; resolves when it has answered (or decided not to). */
  async deliver(buf: Uint8Array, from: Peer): Promise<void> {
    if (!this.handler || this.closed) throw new Error(`nothing listens on memory port ${this.port}`);
    // The plugin's callback returns the promise of its answer (see plugin.ts listen()).
    await (this.handler(Buffer.from(buf), from) as unknown);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The memory side of the plugin: what it sent, what the probe answers, the link. */
export class MemoryIo {
  readonly sent: Sent[] = [];
  readonly sockets = new Map<number, MemorySocket>();
  readonly probes: { timeoutMs: number; mac: string }[] = [];
  readonly pings: string[] = [];
  /** What the next probes hear. */
  probeResult: ProbeResult = { servers: [], overflow: 0 };
  /** Addresses the conflict check finds in use. */
  inUse = new Set<string>();
  private linkChange: ((serving: boolean, s: LinkState) => void) | null = null;

  /** The factory the plugin takes. */
  readonly factory: DhcpIoFactory = (): DhcpIo => ({
    openSocket: async (port) => {
      const s = new MemorySocket(port, this.sent);
      this.sockets.set(port, s);
      return s;
    },
    probe: async (timeoutMs, mac) => {
      this.probes.push({ timeoutMs, mac });
      return this.probeResult;
    },
    watchLink: (onChange) => {
      this.linkChange = onChange;
      return () => (this.linkChange = null);
    },
    addressInUse: async (ip) => {
      this.pings.push(ip);
      return this.inUse.has(ip);
    },
    macForIp: async () => null,
  });

  /** A datagram arrives on `port`; resolves once the plugin has handled it. */
  deliver(port: number, buf: Uint8Array, from: Peer = { address: '0.0.0.0', port: 68 }): Promise<void> {
    const s = this.sockets.get(port);
    if (!s) throw new Error(`no socket on memory port ${port}`);
    return s.deliver(buf, from);
  }

  /** Deliver and return what the plugin sent in answer (empty: silence). */
  async exchange(port: number, buf: Uint8Array, from?: Peer): Promise<Sent[]> {
    const before = this.sent.length;
    await this.deliver(port, buf, from);
    return this.sent.slice(before);
  }

  /** Deliver and return the one reply (fails on silence). */
  async ask(port: number, buf: Uint8Array, from?: Peer): Promise<Sent> {
    const out = await this.exchange(port, buf, from);
    if (!out[0]) throw new Error(`no reply on memory port ${port}`);
    return out[0];
  }

  /** The NIC goes down (false) or comes back (true). */
  link(up: boolean): void {
    this.linkChange?.(up, { exists: true, up, ipv4: up ? ['10.9.0.1'] : [] });
  }
}

/** An event sink that keeps everything in an array. */
export function memoryEvents(): EventSink & { list: CcEvent[]; of<T extends EventType>(type: T): EventOf<T>[] } {
  const list: CcEvent[] = [];
  return {
    list,
    of: (type) => ofType(list, type),
    emit<T extends EventType>(type: T, e: EventInput<T>): CcEvent {
      const ev = makeEvent(type, list.length + 1, e);
      list.push(ev);
      return ev;
    },
  };
}
