/**
 * Composition root: opens the store, builds the core services, starts the
 * planes and the optional simulated rack. Used by `crashcart serve`, by
 * Electron's child process and by tests.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.ts';
import type { CoreContext } from './core/context.ts';
import type { Logger, Plugin } from './core/plugin.ts';
import { openStore, type Store } from './store/store.ts';
import { EventLog } from './events/event-log.ts';
import { SettingsService, type Settings } from './settings/settings-service.ts';
import { NodeRepo } from './nodes/node-repo.ts';
import { TagService } from './tags/tag-service.ts';
import { PolicyService } from './policies/policy-service.ts';
import { TaskService } from './tasks/task-service.ts';
import { Mutex } from './core/mutex.ts';
import { NetworkServices } from './core/network-services.ts';
import { buildAdminPlane } from './http/admin-plane.ts';
import { AdminAuth, ensureAdminToken, lifetimes } from './http/admin-auth.ts';
import { loadAdminTls } from './http/admin-tls.ts';
import type { MachineView } from './config/network.ts';
import { sweepLost } from './nodes/node-actions.ts';
import { listInterfaces, ifindexOf, interfacesWithAddresses } from './system/interfaces.ts';
import { patchConfig } from './config/patch.ts';
import { probeForeignDhcp } from './dhcp/probe.ts';
import { openReservations } from './dhcp/reservation-scope.ts';
import { createLabPlugin } from './lab/lab-plugin.ts';
import { bindError, ccError } from './errors/cc-error.ts';
import * as D from './config/defaults.ts';
import { HashCache } from './prepare/inventory/hash-cache.ts';
import { gatherReadiness } from './readiness/gather.ts';
import { realProbes } from './readiness/probes.ts';
import { REPO_ROOT } from './boot/microkernel-assets.ts';
import { NodeGuard } from './nodes/node-guard.ts';
import { applyHttpLimits } from './http/http-limits.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** A running appliance. */
export interface Appliance {
  ctx: CoreContext;
  store: Store;
  admin: FastifyInstance;
  network: NetworkServices;
  auth: AdminAuth;
  lab: Plugin | null;
  /** Admin UI URL with a one-time login code. */
  loginUrl: string;
  /** Admin base URL (https:// when the admin plane is exposed). */
  adminUrl: string;
  /** SHA-256 fingerprint of the admin TLS certificate clients pin; null on plain HTTP. */
  fingerprint: string | null;
  stop(): Promise<void>;
}

/** Options for tests and embedders. */
export interface StartOptions {
  log: Logger;
  now?: () => Date;
  /** Settings forced at start (tests use short intervals). */
  settings?: Partial<Settings>;
  /** Interval of the lost sweep and hot-field flush. */
  sweepIntervalMs?: number;
  /** The machine's interfaces for the Setup screen's apply (tests inject their own). */
  machine?: MachineView;
  /**
   * Runs with the data dir locked, before any port is bound: `serve` checks readiness here, prints the
   * table and refuses (throws) when the rack cannot be served (issue 12).
   */
  beforeNetwork?: (ctx: CoreContext) => Promise<void>;
}

const realMachine: MachineView = { interfaces: interfacesWithAddresses, ifindex: ifindexOf, env: process.env };

/**
 * Going live in full or proxy mode needs the x86 loaders and microkernel (issue 12): the Setup
 * screen's apply refuses without them, as `serve` does at start.
 */
async function refuseUnready(next: Config, hashes: HashCache): Promise<void> {
  if (!next.iface || next.dhcp === 'off') return;
  const r = await gatherReadiness(next, {
    probes: realProbes,
    hashes,
    root: REPO_ROOT,
    nicRequired: false,
    ports: 'skip',
    dhcpProbe: { skip: 'checked by the DHCP service' },
  });
  const missing = r.rows.filter((x) => x.status === 'fail' && (x.group === 'loaders' || x.group === 'microkernel'));
  if (missing.length > 0) throw ccError('CC_ERR_NOT_READY', missing.map((x) => `${x.label}: ${x.detail}`).join('; '), { readiness: r });
}

/** Start the whole appliance for a frozen config. */
export async function startAppliance(config: Config, opts: StartOptions): Promise<Appliance> {
  const now = opts.now ?? (() => new Date());
  const machine = opts.machine ?? realMachine;
  // Takes the data dir's lock first: a second appliance on the same folder stops here, before it touches anything.
  const store = await openStore(config.dataDir, D.DEFAULT_COMPACTION_INTERVAL_S, 'crashcart serve');
  try {
    return await startOnStore(config, opts, store, now, machine);
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

async function startOnStore(config: Config, opts: StartOptions, store: Store, now: () => Date, machine: MachineView): Promise<Appliance> {
  const events = await EventLog.open(store.events, D.DEFAULT_EVENT_RETENTION, now);
  for (const r of store.repairs)
    events.emit('store.repaired', { message: `Cut ${r.cutBytes} bytes of an interrupted write from ${r.file}`, data: { ...r } });
  const settings = await SettingsService.open(store.settings, config.publicUrl, opts.settings);
  const repo = await NodeRepo.open(store.nodes);
  const ctx: CoreContext = {
    config,
    store,
    events,
    settings,
    repo,
    tags: await TagService.open(store.tags),
    policies: await PolicyService.open(store.policies),
    tasks: await TaskService.open(store.tasks),
    reservations: await openReservations(store, events, () => ctx.config),
    lock: new Mutex(),
    log: opts.log,
    now,
    guard: new NodeGuard({
      settings: () => settings.get(),
      events,
      // The simulated rack is loopback (like the request rate limit's allow list in lab mode).
      exempt: (ip) => ctx.config.lab !== null && LOOPBACK.has(ip),
      unregistered: () => repo.unregistered,
      now: () => now().getTime(),
    }),
  };
  const token = await ensureAdminToken(config.dataDir);
  const auth = new AdminAuth(token, lifetimes(config.admin.sessionIdleS, config.admin.sessionMaxS), () => now().getTime());
  const tls = await loadAdminTls(config);
  await opts.beforeNetwork?.(ctx);
  const network = new NetworkServices(ctx);
  const hashes = new HashCache();
  let lab: Plugin | null = null;
  const sys = {
    services: () => [
      { name: 'admin', state: 'running' as const, detail: `${config.admin.host}:${config.admin.port}` },
      ...network.statuses(),
      ...(lab ? [{ name: 'lab', state: 'running' as const, detail: `simulated rack of ${config.lab?.nodes ?? 0}` }] : []),
    ],
    interfaces: async () => listInterfaces(),
    probe: async (iface: string) => {
      const ifindex = ifindexOf(iface);
      if (ifindex === null) throw ccError('CC_ERR_IFACE_NOT_FOUND', iface);
      return probeForeignDhcp({ iface, ifindex, timeoutMs: 3000 });
    },
    apply: async (req: { iface: string; address?: string; dhcp: 'full' | 'proxy' | 'off'; range?: string; force?: boolean }) => {
      const next = patchConfig(ctx.config, { network: req }, machine);
      await refuseUnready(next, hashes);
      await network.apply(next);
    },
    stopNetwork: () => network.stopUdp(),
    // Ports come from our own services; the Setup screen's probe button checks the link for other servers.
    readiness: () =>
      gatherReadiness(ctx.config, {
        probes: realProbes,
        hashes,
        root: REPO_ROOT,
        nicRequired: false,
        ports: { services: sys.services() },
        dhcpProbe: { skip: "not probed here: the Setup screen's probe checks the link" },
        now,
      }),
  };

  await network.start();
  let adminUrl = '';
  const admin = await buildAdminPlane(ctx, { auth, sys, tls, loginUrl: (code) => `${adminUrl}/#login=${code}` });
  applyHttpLimits(admin.server, settings.get());
  try {
    await admin.listen({ host: config.admin.host, port: config.admin.port });
  } catch (e) {
    await network.stop();
    throw bindError(e, 'admin plane', config.admin.port);
  }
  const a = admin.server.address();
  const adminPort = a && typeof a === 'object' ? a.port : config.admin.port;
  // A wildcard listen is reached by loopback from this machine (and that name is always allowed).
  const shown = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host === '::' ? '::1' : config.admin.host;
  const adminHost = shown.includes(':') ? `[${shown}]` : shown;
  adminUrl = `${tls ? 'https' : 'http'}://${adminHost}:${adminPort}`;
  // Tell CLI commands where to send their writes while we hold the data dir.
  await store.lock.update({ adminUrl, fingerprint: tls?.fingerprint ?? null });

  const sweepMs = opts.sweepIntervalMs ?? 5000;
  const timer = setInterval(() => {
    void sweepLost(ctx)
      .then(() => ctx.repo.flush())
      .catch((e: unknown) => opts.log.warn({ err: e }, 'sweep failed'));
  }, sweepMs);
  timer.unref();

  if (config.lab && config.lab.nodes > 0) {
    const http = network.httpAddress();
    const sim = createLabPlugin({ baseUrl: `http://127.0.0.1:${http?.port ?? config.http.port}`, count: config.lab.nodes, log: opts.log });
    try {
      await sim.start();
    } catch (e) {
      clearInterval(timer);
      await admin.close();
      await network.stop();
      throw e;
    }
    lab = sim;
  }

  return {
    ctx,
    store,
    admin,
    network,
    auth,
    fingerprint: tls?.fingerprint ?? null,
    get lab() {
      return lab;
    },
    loginUrl: `${adminUrl}/#login=${auth.newLoginCode()}`,
    adminUrl,
    async stop() {
      clearInterval(timer);
      await lab?.stop();
      await admin.close();
      await network.stop();
      await ctx.repo.flush();
      await events.flushNow();
      await store.close();
    },
  };
}
