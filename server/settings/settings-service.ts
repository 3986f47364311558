/**
 * Run-time settings (pushed to agents), stored in the `settings` collection over named defaults: one document
 * per key (`setting:KEY`). A PATCH is checked whole, then stored as one batch (store/batch.ts): a crash, a full
 * disk or a bad value never leaves it half applied, and memory changes only after the batch is on disk.
 */
import { Compile } from 'typebox/compile';
import { SettingsSchema, type AgentConfig, type SettingsPatch } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { SettingDoc } from '../store/docs.ts';
import * as D from '../config/defaults.ts';
import * as N from './node-plane-defaults.ts';
import { ccError } from '../errors/cc-error.ts';

/** All settings with their values. */
export type Settings = Required<SettingsPatch>;

const DEFAULTS: Settings = {
  checkin_interval_s: D.DEFAULT_CHECKIN_INTERVAL_S,
  checkin_skew_s: D.DEFAULT_CHECKIN_SKEW_S,
  facts_exclude_pattern: '',
  log_level: 'info',
  lost_after_intervals: D.DEFAULT_LOST_AFTER_INTERVALS,
  reregister_after_s: D.DEFAULT_REREGISTER_AFTER_S,
  default_efi_loader: D.DEFAULT_EFI_LOADER,
  boot_chain: D.DEFAULT_BOOT_CHAIN,
  approval_required: false,
  deploy_callback_timeout_s: D.DEFAULT_DEPLOY_CALLBACK_TIMEOUT_S,
  enrol_token_ttl_s: N.DEFAULT_ENROL_TOKEN_TTL_S,
  install_token_ttl_s: N.DEFAULT_INSTALL_TOKEN_TTL_S,
  node_create_per_source_per_min: N.DEFAULT_NODE_CREATE_PER_SOURCE_PER_MIN,
  node_create_dhcp_per_min: N.DEFAULT_NODE_CREATE_DHCP_PER_MIN,
  unregistered_nodes_max: N.DEFAULT_UNREGISTERED_NODES_MAX,
  discovered_events_per_min: N.DEFAULT_DISCOVERED_EVENTS_PER_MIN,
  node_events_per_source_per_min: N.DEFAULT_NODE_EVENTS_PER_SOURCE_PER_MIN,
  node_events_per_min: N.DEFAULT_NODE_EVENTS_PER_MIN,
  dhcp_events_per_min: N.DEFAULT_DHCP_EVENTS_PER_MIN,
  tftp_events_per_min: N.DEFAULT_TFTP_EVENTS_PER_MIN,
  facts_bytes_per_source_per_min: N.DEFAULT_FACTS_BYTES_PER_SOURCE_PER_MIN,
  http_headers_timeout_s: N.DEFAULT_HTTP_HEADERS_TIMEOUT_S,
  http_request_timeout_s: N.DEFAULT_HTTP_REQUEST_TIMEOUT_S,
  http_keepalive_timeout_s: N.DEFAULT_HTTP_KEEPALIVE_TIMEOUT_S,
  bmc_concurrency: D.DEFAULT_BMC_CONCURRENCY,
  power_stagger_s: D.DEFAULT_POWER_STAGGER_S,
  soft_off_timeout_s: D.DEFAULT_SOFT_OFF_TIMEOUT_S,
  bmc_request_timeout_s: D.DEFAULT_BMC_REQUEST_TIMEOUT_S,
  power_poll_interval_s: D.DEFAULT_POWER_POLL_S,
  bmc_enrol_inband: D.DEFAULT_BMC_ENROL_INBAND,
  // null: the rack subnets Crashcart serves (allowedSubnets in server/bmc/enrolment/enrol-policy.ts).
  bmc_allowed_subnets: null,
};

const checkPatch = Compile(SettingsSchema);

/**
 * Every key and value of `p`, checked before anything is stored (the routes' schema checks the same; a bundle
 * import and start-up seeding call in directly): the first problem, as CC_ERR_BAD_REQUEST naming the field.
 */
function validatePatch(p: unknown): asserts p is SettingsPatch {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw ccError('CC_ERR_BAD_REQUEST', 'settings: expected an object');
  const unknown = Object.keys(p).filter((k) => !(k in DEFAULTS));
  if (unknown.length)
    throw ccError(
      'CC_ERR_BAD_REQUEST',
      `settings: no setting named ${unknown.map((k) => `"${k}"`).join(', ')} (settings are: ${Object.keys(DEFAULTS).join(', ')})`,
    );
  if (!checkPatch.Check(p)) {
    const errors = [...checkPatch.Errors(p)];
    const at = errors[0]?.instancePath ?? '';
    // A choice (log_level, boot_chain, ...) fails once per alternative: name the alternatives instead.
    const allowed = errors
      .filter((e) => e.instancePath === at && e.keyword === 'const')
      .map((e) => JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue));
    const why = allowed.length ? `must be one of ${allowed.join(', ')}` : (errors[0]?.message ?? 'is invalid');
    throw ccError('CC_ERR_BAD_REQUEST', `settings: ${at.slice(1).replace(/\//g, '.') || 'patch'} ${why}`);
  }
  const re = (p as SettingsPatch).facts_exclude_pattern;
  if (re !== undefined && re !== '') {
    try {
      new RegExp(re);
    } catch (e) {
      throw ccError('CC_ERR_BAD_REQUEST', `facts_exclude_pattern: ${(e as Error).message}`);
    }
  }
}

/** Settings with an in-memory copy (read on every check-in). */
export class SettingsService {
  private values: Settings = { ...DEFAULTS };

  private constructor(
    private readonly col: Collection<SettingDoc>,
    private readonly publicUrl: string,
  ) {}

  /** Load stored settings over the defaults. */
  static async open(col: Collection<SettingDoc>, publicUrl: string, overrides: Partial<Settings> = {}): Promise<SettingsService> {
    const s = new SettingsService(col, publicUrl);
    for (const d of await col.find({ _id: { $regex: /^setting:/ } })) {
      const k = d._id.slice('setting:'.length) as keyof Settings;
      if (k in DEFAULTS) (s.values as Record<string, unknown>)[k] = d.value;
    }
    Object.assign(s.values, overrides);
    return s;
  }

  /** Current settings. */
  get(): Readonly<Settings> {
    return this.values;
  }

  /**
   * Change settings, all or nothing: the whole patch is checked first, then stored as one batch, fsync'ed; the
   * values in memory change only after that (a disk error rejects, CC_ERR_DISK_WRITE, with the old values kept).
   */
  async patch(p: SettingsPatch): Promise<Settings> {
    validatePatch(p);
    const changed = Object.entries(p).filter(([, v]) => v !== undefined);
    await this.col.putBatch(
      changed.map(([k, v]) => ({ _id: `setting:${k}`, value: v as unknown })),
      { durable: true },
    );
    Object.assign(this.values, Object.fromEntries(changed));
    return this.values;
  }

  /** What agents are told with every answer. */
  agentConfig(): AgentConfig {
    const v = this.values;
    return {
      checkin_interval_s: v.checkin_interval_s,
      checkin_skew_s: v.checkin_skew_s,
      facts_exclude_pattern: v.facts_exclude_pattern,
      server_url: this.publicUrl,
      log_level: v.log_level,
    };
  }
}
