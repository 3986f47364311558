/** Run-time settings (pushed to agents), stored in the `settings` collection over named defaults. */
import type { AgentConfig, SettingsPatch } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { SettingDoc } from '../store/docs.ts';
import * as D from '../config/defaults.ts';
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
};

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

  /** Change settings (validated by the route schema; the regex is checked here). */
  async patch(p: SettingsPatch): Promise<Settings> {
    if (p.facts_exclude_pattern !== undefined && p.facts_exclude_pattern !== '') {
      try {
        new RegExp(p.facts_exclude_pattern);
      } catch (e) {
        throw ccError('CC_ERR_BAD_REQUEST', `facts_exclude_pattern: ${(e as Error).message}`);
      }
    }
    for (const [k, v] of Object.entries(p)) {
      if (v === undefined) continue;
      await this.col.put({ _id: `setting:${k}`, value: v }, { durable: true });
      (this.values as Record<string, unknown>)[k] = v;
    }
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
