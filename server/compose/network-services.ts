/**
 * The services bound to the provisioning NIC: node-facing HTTP, DHCP and TFTP.
 * Started together for one (frozen) config; `apply` swaps the config and
 * restarts them (the Setup screen), `stop` takes them down.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../core/context.ts';
import type { Config } from '../config/schema.ts';
import type { Plugin } from '../core/plugin.ts';
import type { ServiceStatus } from '../../contract/index.ts';
import { buildNodePlane } from '../http/node-plane.ts';
import { bootHooks } from '../nodes/boot-hooks-impl.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';
import { loaderRoots, writeRenderedTftp } from '../boot/loader-roots.ts';
import { startChainRecorder } from '../nodes/chain-recorder.ts';
import { CcError, bindError } from '../errors/cc-error.ts';
import { createDhcpPlugin, type DhcpPlugin } from '../dhcp/plugin.ts';
import { createTftpPlugin } from '../tftp/plugin.ts';
import { createRaResponder } from '../net/router-advert.ts';
import { loaderMissing } from '../prepare/loader-missing.ts';
import { listenPinned } from '../net/pinned-tcp.ts';

type Svc = { status: ServiceStatus; plugin?: Plugin };

/** Manages the NIC-bound services. */
export class NetworkServices {
  private http: FastifyInstance | null = null;
  /** Unsubscribes the chain recorder (it follows DHCP/TFTP/HTTP events while the services run). */
  private stopRecorder: (() => void) | null = null;
  /** Stops feeding proxyDHCP clients to the RA responder (set in proxy mode). */
  private raUnsubscribe: (() => void) | null = null;
  private readonly svcs = new Map<string, Svc>();
  /** Settles when the appliance says its whole start is done (`appStarted`); a restart by `apply` finds it settled. */
  private markStarted: () => void = () => undefined;
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));

  constructor(private readonly ctx: CoreContext) {}

  /**
   * The appliance has started: every plane is built and listening. Work that must come after the start and its
   * garbage runs now (the DHCP warm start's closing full collection, server/dhcp/plugin.ts `appStarted`).
   */
  appStarted(): void {
    this.markStarted();
  }

  /** Current state of every NIC-bound service. */
  statuses(): ServiceStatus[] {
    return [...this.svcs.values()].map((s) =>
      s.status.name === 'dhcp' && s.plugin && 'warmStart' in s.plugin
        ? { ...s.status, warmStart: (s.plugin as DhcpPlugin).warmStart() }
        : s.status,
    );
  }

  private set(name: string, state: ServiceStatus['state'], detail: string, err?: unknown): void {
    const e =
      err instanceof CcError
        ? { code: err.code, message: err.message, fix: err.fix }
        : err
          ? { code: 'CC_ERR_INTERNAL', message: String((err as Error).message ?? err), fix: 'See the log.' }
          : undefined;
    const prev = this.svcs.get(name);
    this.svcs.set(name, { ...prev, status: { name, state, detail, ...(e ? { error: e } : {}) } });
    this.ctx.events.emit(state === 'failed' ? 'service.error' : 'service.state', {
      message: `${name}: ${state}${detail ? ` (${detail})` : ''}`,
      data: { service: name, state, detail, error: e },
    });
  }

  /** Start HTTP (always), then DHCP and TFTP when the config names a NIC. Throws on HTTP bind failure. */
  async start(): Promise<void> {
    const c = this.ctx.config;
    await fs.mkdir(path.join(c.dataDir, 'images'), { recursive: true });
    const app = await buildNodePlane(this.ctx, { rateLimitAllow: c.lab ? ['127.0.0.1', '::1', '::ffff:127.0.0.1'] : [] });
    try {
      // Pinned to the provisioning NIC like DHCP and TFTP (server/net/pinned-tcp.ts).
      await listenPinned(app, { host: c.http.host, port: c.http.port, ifindex: c.iface ? c.ifindex : null, purpose: 'node-facing HTTP' });
    } catch (e) {
      this.set('http-node', 'failed', `${c.http.host}:${c.http.port}`, bindError(e, 'node-facing HTTP', c.http.port));
      throw bindError(e, 'node-facing HTTP', c.http.port);
    }
    this.http = app;
    this.set('http-node', 'running', c.publicUrl);
    this.stopRecorder ??= startChainRecorder(this.ctx);
    await this.startUdp(c);
  }

  private async startUdp(c: Config): Promise<void> {
    const hooks = bootHooks(this.ctx);
    if (!c.iface || !c.address) {
      this.set('dhcp', 'disabled', 'no --iface given');
      this.set('tftp', 'disabled', 'no --iface given');
      return;
    }
    let dhcp: DhcpPlugin | null = null;
    if (c.dhcp !== 'off') {
      dhcp = createDhcpPlugin({
        config: c,
        leases: this.ctx.store.leases,
        reservations: this.ctx.reservations,
        eventsPerMin: () => this.ctx.settings.get().dhcp_events_per_min,
        events: this.ctx.events,
        hooks,
        log: this.ctx.log,
        appStarted: this.started,
      });
      await this.run('dhcp', dhcp, `${c.dhcp} on ${c.iface}`);
    } else this.set('dhcp', 'disabled', '--dhcp off');
    // End iPXE's IPv6 wait with an empty router advertisement (see server/net/router-advert.ts): on an
    // isolated rack to everyone; beside a site's DHCP server only to the machines we answer, unicast.
    if (c.dhcp === 'full' || c.dhcp === 'proxy') {
      const solicitedOnly = c.dhcp === 'proxy';
      const ra = createRaResponder({
        iface: c.iface,
        resourcesDir: path.join(REPO_ROOT, 'resources'),
        events: this.ctx.events,
        log: this.ctx.log,
        solicitedOnly,
      });
      if (solicitedOnly) {
        this.raUnsubscribe?.();
        // Events over the DHCP event budget too (server/events/event-budget.ts): a flood must not cost a machine its RA.
        this.raUnsubscribe = this.ctx.events.subscribe(
          (e) => {
            if ((e.type === 'dhcp.offer' || e.type === 'dhcp.ack') && e.mac) ra.allow(e.mac);
          },
          { unrecorded: true },
        );
      }
      await this.run('ipv6-ra', ra, solicitedOnly ? `unicast empty RAs to PXE clients on ${c.iface}` : `empty RAs on ${c.iface}`);
    }
    // TFTP tells DHCP which proxy strategy got a machine this far (remembered per MAC).
    const tftpHooks = {
      ...hooks,
      tftpFileFor: async (ip: string, requested: string) => {
        await dhcp?.noteTftpRequest(ip);
        return hooks.tftpFileFor(ip, requested);
      },
      fileMissing: (ip: string, requested: string, nodeId: number | null) => {
        const m = loaderMissing(requested, 'tftp', ip);
        // An unauthenticated request: within the source's event budget (node-guard.ts).
        if (m) this.ctx.guard.sourceEvent(ip, 'boot.loader_missing', { node_id: nodeId, message: m.message, data: m.data });
      },
    };
    // GRUB's `grub/grub.cfg` (rendered for this config), then the loaders, then the operator's own root.
    const rendered = await writeRenderedTftp(c);
    const roots = [rendered, ...loaderRoots(c), ...(c.tftpRoot ? [c.tftpRoot] : [])];
    await this.run(
      'tftp',
      createTftpPlugin({
        config: c,
        roots,
        events: this.ctx.events,
        eventsPerMin: () => this.ctx.settings.get().tftp_events_per_min,
        hooks: tftpHooks,
        log: this.ctx.log,
      }),
      `${c.address.ip}:${c.ports.tftp} on ${c.iface}`,
    );
  }

  private async run(name: string, plugin: Plugin, detail: string): Promise<void> {
    this.svcs.set(name, { plugin, status: { name, state: 'stopped', detail } });
    try {
      await plugin.start();
      this.set(name, 'running', detail);
    } catch (e) {
      this.ctx.log.error({ err: e }, `${name} failed to start`);
      this.set(name, 'failed', detail, e);
    }
  }

  /** Stop every NIC-bound service. */
  async stop(): Promise<void> {
    this.raUnsubscribe?.();
    this.raUnsubscribe = null;
    for (const [name, s] of this.svcs) {
      if (s.plugin && s.status.state === 'running') {
        await s.plugin.stop().catch((e: unknown) => this.ctx.log.warn({ err: e }, `${name} stop failed`));
        this.set(name, 'stopped', s.status.detail);
      }
    }
    if (this.http) {
      await this.http.close();
      this.http = null;
    }
    this.stopRecorder?.();
    this.stopRecorder = null;
  }

  /** Stop DHCP and TFTP only (the node plane stays). */
  async stopUdp(): Promise<void> {
    this.raUnsubscribe?.();
    this.raUnsubscribe = null;
    for (const name of ['dhcp', 'ipv6-ra', 'tftp']) {
      const s = this.svcs.get(name);
      if (s?.plugin && s.status.state === 'running') {
        await s.plugin.stop();
        this.set(name, 'stopped', s.status.detail);
      }
    }
  }

  /** Swap to a new config and restart. */
  async apply(next: Config): Promise<void> {
    await this.stop();
    this.ctx.config = next;
    await this.start();
  }

  /** The node plane's Fastify instance while it runs (tests use its inject()). */
  get nodePlane(): FastifyInstance | null {
    return this.http;
  }

  /** Address the node plane listens on (tests use port 0). */
  httpAddress(): { host: string; port: number } | null {
    const a = this.http?.server.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
  }
}
