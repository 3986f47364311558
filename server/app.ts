/**
 * Composition root: opens the store, builds the core services, starts the
 * planes and the optional simulated rack. Used by `crashcart serve`, by
 * Electron's child process and by tests. The parts it wires together are
 * built in server/compose/ (core services, NIC-bound services, the Setup
 * screen's control); nothing below this layer composes anything.
 */
import { sweepDeployCallbacks } from './deploy/task-flow.ts';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.ts';
import type { CoreContext } from './core/context.ts';
import type { Logger, Plugin } from './core/plugin.ts';
import type { Settings } from './settings/settings-service.ts';
import type { MachineView } from './config/network.ts';
import { openStore, type Store } from './store/store.ts';
import { NetworkServices } from './compose/network-services.ts';
import { openCore } from './compose/core-context.ts';
import { systemNow } from './core/clock.ts';
import { systemControl } from './compose/system-control.ts';
import { buildAdminPlane } from './http/admin-plane.ts';
import { AdminAuth, ensureAdminToken, lifetimes } from './http/admin-auth.ts';
import { loadAdminTls } from './http/admin-tls.ts';
import { sweepLost } from './nodes/node-actions.ts';
import { ifindexOf, interfacesWithAddresses } from './system/interfaces.ts';
import { createLabPlugin } from './lab/lab-plugin.ts';
import { bindError } from './errors/cc-error.ts';
import * as D from './config/defaults.ts';
import { applyHttpLimits } from './http/http-limits.ts';
import { createPowerPoller, type PowerPoller } from './bmc/power-poller.ts';

/** A running appliance. */
export interface Appliance {
  ctx: CoreContext;
  store: Store;
  admin: FastifyInstance;
  network: NetworkServices;
  auth: AdminAuth;
  lab: Plugin | null;
  /** The calm power-state poll of nodes with a BMC. */
  powerPoller: PowerPoller;
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

/** Start the whole appliance for a frozen config. */
export async function startAppliance(config: Config, opts: StartOptions): Promise<Appliance> {
  const now = opts.now ?? systemNow;
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
  const ctx = await openCore(config, store, { log: opts.log, now, settings: opts.settings });
  const { events, settings } = ctx;
  const token = await ensureAdminToken(config.dataDir);
  const auth = new AdminAuth(token, lifetimes(config.admin.sessionIdleS, config.admin.sessionMaxS), () => now().getTime());
  const tls = await loadAdminTls(config);
  await opts.beforeNetwork?.(ctx);
  const network = new NetworkServices(ctx);
  let lab: Plugin | null = null;
  const sys = systemControl(ctx, network, machine, () => lab);

  await network.start();
  let adminUrl = '';
  const admin = await buildAdminPlane(ctx, { auth, sys, tls, loginUrl: (code) => `${adminUrl}/#login=${code}` });
  applyHttpLimits(admin.server, settings.get(), ctx.log, 'admin plane');
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
      .then(() => sweepDeployCallbacks(ctx))
      .then(() => ctx.repo.flush())
      .catch((e: unknown) => ctx.log.warn({ err: e }, 'sweep failed'));
  }, sweepMs);
  timer.unref();
  const powerPoller = createPowerPoller(ctx);
  await powerPoller.start();

  if (config.lab && config.lab.nodes > 0) {
    const http = network.httpAddress();
    const sim = createLabPlugin({ baseUrl: `http://127.0.0.1:${http?.port ?? config.http.port}`, count: config.lab.nodes, log: ctx.log });
    try {
      await sim.start();
    } catch (e) {
      clearInterval(timer);
      await powerPoller.stop();
      await admin.close();
      await network.stop();
      throw e;
    }
    lab = sim;
  }
  // Everything is up: the DHCP warm start's closing full collection (waiting for this) now takes the start's garbage.
  ctx.log.info({ admin: adminUrl }, 'appliance started: every plane listening');
  network.appStarted();

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
    powerPoller,
    loginUrl: `${adminUrl}/#login=${auth.newLoginCode()}`,
    adminUrl,
    async stop() {
      clearInterval(timer);
      await powerPoller.stop();
      await lab?.stop();
      await admin.close();
      await network.stop();
      await ctx.repo.flush();
      await events.close();
      await store.close();
    },
  };
}
