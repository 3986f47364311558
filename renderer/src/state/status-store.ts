/** Appliance status (services, config, counts); refreshed on `service.*` events, not polled. */
import { shallowRef, type Ref } from 'vue';
import type { CcEvent } from '../../../contract/events.ts';
import type { ApplianceStatus } from '../../../contract/system.ts';
import { call } from '../api/client.ts';
import { ApiError } from '../api/api-error.ts';

/** The status, reactive. */
export class StatusStore {
  /** Latest status. */
  readonly status: Ref<ApplianceStatus | null> = shallowRef(null);
  /** Last error fetching it. */
  readonly error: Ref<ApiError | null> = shallowRef(null);
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** Fetch now. */
  async refresh(): Promise<void> {
    try {
      this.status.value = await call('GET /api/v1/status');
      this.error.value = null;
    } catch (e) {
      if (e instanceof ApiError) this.error.value = e;
    }
  }

  /** Replace with a status a setup call returned. */
  set(s: ApplianceStatus): void {
    this.status.value = s;
  }

  /** Feed one event; service changes trigger a (coalesced) refresh. */
  handleEvent(ev: CcEvent): void {
    if (!ev.type.startsWith('service.')) return;
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, 200);
  }
}
