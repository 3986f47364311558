/** What the core's services share; built once by server/compose/core-context.ts and passed down. */
import type { Config } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { EventLog } from '../events/event-log.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import type { NodeRepo } from '../nodes/node-repo.ts';
import type { TagService } from '../tags/tag-service.ts';
import type { PolicyService } from '../policies/policy-service.ts';
import type { TaskService } from '../tasks/task-service.ts';
import type { Mutex } from './mutex.ts';
import type { ReservationService } from '../dhcp/reservations.ts';
import type { Logger } from './plugin.ts';
import type { NodeGuard } from '../nodes/node-guard.ts';
import type { SecretBox } from '../secrets/secret-box.ts';

/** The core's shared services. */
export interface CoreContext {
  /** The current frozen config (swapped whole by the Setup screen, never mutated). */
  config: Config;
  store: Store;
  events: EventLog;
  settings: SettingsService;
  repo: NodeRepo;
  tags: TagService;
  policies: PolicyService;
  tasks: TaskService;
  /** DHCP reservations (MAC -> address), read live by the DHCP server. */
  reservations: ReservationService;
  /** Serialises state changes that must not race (binding, merging). */
  lock: Mutex;
  log: Logger;
  now(): Date;
  /** Per-source limits on what the rack can make the core do (node creation, events, facts bytes). */
  guard: NodeGuard;
  /** Seals and opens write-only secrets (BMC passwords) with the data dir's key (docs/bmc.md "Secrets at rest"). */
  secrets: SecretBox;
}
