/**
 * The IPMI driver: chassis control (IPMI 2.0 28.3), power status (28.2) and
 * boot options (28.12-28.13) through ipmitool over RMCP+ (lanplus).
 */
import type { PowerAction, PowerState } from '../../../contract/index.ts';
import { ccError } from '../../errors/cc-error.ts';
import {
  waitForPower,
  type BmcDriver,
  type BmcTarget,
  type BmcTimings,
  type BootRequest,
  type PowerOutcome,
  type ProbeOutcome,
  type Sleep,
} from '../driver.ts';
import { bootParameterRefusal } from './classify.ts';
import { runIpmitool, type IpmitoolOptions } from './ipmitool.ts';
import { parseMcInfo, parsePowerStatus } from './parse.ts';

/** What the IPMI driver is built with. */
export interface IpmiDeps {
  timings: BmcTimings;
  sleep: Sleep;
  /** Where ipmitool is and its environment (tests); default: `ipmitool` from PATH. */
  ipmitool?: Omit<IpmitoolOptions, 'timeoutMs'>;
}

const BOOTDEV: Record<BootRequest['device'], string> = { pxe: 'pxe', disk: 'disk', bios: 'bios' };

/** One IPMI BMC. */
export class IpmiDriver implements BmcDriver {
  readonly kind = 'ipmi' as const;

  constructor(
    private readonly t: BmcTarget,
    private readonly deps: IpmiDeps,
  ) {}

  private run(...command: string[]) {
    return runIpmitool(this.t, command, { ...this.deps.ipmitool, timeoutMs: this.deps.timings.requestTimeoutMs });
  }

  /** Power status, retried: a status read is idempotent, and one lost UDP exchange should not fail an action. */
  private async status(): Promise<PowerState> {
    for (let attempt = 0; ; attempt++) {
      try {
        return parsePowerStatus((await this.run('chassis', 'power', 'status')).stdout);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= this.deps.timings.retries || (code !== 'CC_ERR_BMC_UNREACHABLE' && code !== 'CC_ERR_BMC_TIMEOUT')) throw e;
      }
    }
  }

  async probe(): Promise<ProbeOutcome> {
    const mc = parseMcInfo((await this.run('mc', 'info')).stdout);
    const power = await this.status();
    return {
      power,
      info: {
        firmware: mc.firmware,
        ipmi_version: mc.ipmi_version,
        manufacturer_id: mc.manufacturer_id,
        manufacturer: mc.manufacturer,
        product_id: mc.product_id,
      },
      warnings: [],
    };
  }

  async power(action: PowerAction): Promise<PowerOutcome> {
    const warnings: string[] = [];
    const { softOffTimeoutMs, transitionTimeoutMs, pollMs } = this.deps.timings;
    switch (action) {
      case 'status':
        break;
      case 'on':
        await this.run('chassis', 'power', 'on');
        break;
      case 'soft-off':
        // ACPI power button: the OS decides; the state is read back, not waited for.
        await this.run('chassis', 'power', 'soft');
        break;
      case 'off': {
        if ((await this.status()) === 'off') break;
        await this.run('chassis', 'power', 'soft');
        const s = await waitForPower(() => this.status(), 'off', softOffTimeoutMs, pollMs, this.deps.sleep);
        if (s !== 'off') {
          warnings.push(`the OS did not shut down within ${Math.round(softOffTimeoutMs / 1000)} s: forced off`);
          await this.run('chassis', 'power', 'off');
        }
        break;
      }
      case 'cycle':
      case 'reset':
        // IPMI 2.0 28.3: cycle and reset act on a running system; on a machine that is off they are refused or do
        // nothing, while the operator asked for it to end up running: power it on instead, and say so.
        if ((await this.status()) === 'off') {
          await this.run('chassis', 'power', 'on');
          warnings.push(`the machine was off: powered on instead of ${action === 'cycle' ? 'cycled' : 'reset'}`);
        } else {
          await this.run('chassis', 'power', action);
          // A cycle is off, a pause (IPMI 2.0 28.9 power cycle interval), then on: report the machine back on, not mid-way.
          const s = await waitForPower(() => this.status(), 'on', transitionTimeoutMs, pollMs, this.deps.sleep);
          if (s !== 'on')
            warnings.push(`the machine has not reported power on ${Math.round(transitionTimeoutMs / 1000)} s after the ${action}`);
        }
        break;
    }
    return { power: await this.status(), warnings };
  }

  async setBootDevice(req: BootRequest): Promise<{ warnings: string[] }> {
    // IPMI 2.0 28.12: without "persistent" the flags are valid for the next boot only, and the BMC clears them
    // after 60 s without a chassis control command: callers power the machine on right after this.
    const options = [...(req.persistent ? ['persistent'] : []), ...(req.mode === 'uefi' ? ['efiboot'] : [])];
    const { stderr } = await this.run(
      'chassis',
      'bootdev',
      BOOTDEV[req.device],
      ...(options.length ? [`options=${options.join(',')}`] : []),
    );
    const refused = bootParameterRefusal(stderr);
    if (refused)
      throw ccError('CC_ERR_BMC_REFUSED', `IPMI BMC ${this.t.address}:${this.t.port} refused boot device ${req.device}: ${refused}`);
    return { warnings: [] };
  }

  async close(): Promise<void> {}
}
