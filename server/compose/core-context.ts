/**
 * Builds the core's shared services on an open store: the event log, settings
 * (seeded from the config's start-up flags), the node index, tags, policies,
 * tasks, reservations, the secret box (BMC passwords), the redacting logger,
 * the core lock and the node-plane guard.
 */
import type { Config } from '../config/schema.ts';
import type { CoreContext } from '../core/context.ts';
import type { Logger } from '../core/plugin.ts';
import type { Store } from '../store/store.ts';
import { EventLog } from '../events/event-log.ts';
import { SettingsService, type Settings } from '../settings/settings-service.ts';
import { NodeRepo } from '../nodes/node-repo.ts';
import { TagService } from '../tags/tag-service.ts';
import { PolicyService } from '../policies/policy-service.ts';
import { TaskService } from '../tasks/task-service.ts';
import { Mutex } from '../core/mutex.ts';
import { NodeGuard } from '../nodes/node-guard.ts';
import { openReservations } from '../dhcp/reservation-scope.ts';
import * as D from '../config/defaults.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import { redactingLogger } from '../secrets/redact.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** What the core needs besides the config and the store. */
export interface CoreOptions {
  log: Logger;
  now: () => Date;
  /** Settings forced for this run, not stored (tests use short intervals). */
  settings?: Partial<Settings>;
}

/**
 * Settings a start-up flag seeds: stored, so the setting stays the one source
 * of truth that the boot flow reads and the UI changes (issue 11: `--efi-loader`).
 */
async function seedSettings(settings: SettingsService, config: Config): Promise<void> {
  if (config.efiLoader !== null && settings.get().default_efi_loader !== config.efiLoader)
    await settings.patch({ default_efi_loader: config.efiLoader });
}

/** Open every core service on `store` for `config`. */
export async function openCore(config: Config, store: Store, o: CoreOptions): Promise<CoreContext> {
  const events = await EventLog.open(
    store.eventsFile,
    store.legacyEventsFile,
    D.DEFAULT_EVENT_RETENTION,
    o.now,
    D.DEFAULT_HISTORY_RETENTION,
  );
  for (const r of [...store.repairs, ...(events.repaired ? [events.repaired] : [])])
    events.emit('store.repaired', { message: `Cut ${r.cutBytes} bytes of an interrupted write from ${r.file}`, data: { ...r } });
  const settings = await SettingsService.open(store.settings, config.publicUrl, o.settings);
  await seedSettings(settings, config);
  const repo = await NodeRepo.open(store.nodes);
  // Every log line passes through the redactor: a secret that reaches a log object by mistake is cut there.
  const log = redactingLogger(o.log);
  const secrets = await SecretBox.open(config.dataDir);
  if (secrets.keyFileWasLoose)
    log.warn(
      { dataDir: config.dataDir },
      'secrets.key was readable by other users; tightened to 0600 (rotate the BMC passwords if others may have read it)',
    );
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
    log,
    secrets,
    now: o.now,
    guard: new NodeGuard({
      settings: () => settings.get(),
      events,
      // The simulated rack is loopback (like the request rate limit's allow list in lab mode).
      exempt: (ip) => ctx.config.lab !== null && LOOPBACK.has(ip),
      unregistered: () => repo.unregistered,
      now: () => o.now().getTime(),
    }),
  };
  return ctx;
}
