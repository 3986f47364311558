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
  type IdentityOutcome,
  type PowerOutcome,
  type ProbeOutcome,
  type Sleep,
} from '../driver.ts';
import { bootParameterRefusal } from './classify.ts';
import { runIpmitool, type IpmitoolOptions } from './ipmitool.ts';
import { parseMcInfo, parsePowerStatus } from './parse.ts';
import { parseRawBytes, uuidFromSmbiosBytes } from './system-guid.ts';
import { fruSerial } from './fru-serial.ts';

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

  /**
   * The System GUID (Get System GUID: NetFn App 0x06, command 0x37, IPMI 2.0 22.14) and the FRU's serial. IPMI
   * lists no host NIC MACs (the BMC's own MAC is not the machine's), so a MAC is never read here.
   */
  async identity(): Promise<IdentityOutcome> {
    const warnings: string[] = [];
    const sources: string[] = [];
    const where = `IPMI BMC ${this.t.address}:${this.t.port}`;
    const bytes = parseRawBytes((await this.run('raw', '0x06', '0x37')).stdout);
    const uuid = bytes ? uuidFromSmbiosBytes(bytes) : null;
    if (uuid) sources.push('uuid: IPMI Get System GUID');
    else warnings.push(`${where} answered Get System GUID with something that is not 16 bytes`);
    let serial: string | null = null;
    try {
      const fru = fruSerial((await this.run('fru', 'print', '0')).stdout);
      if (fru) {
        serial = fru.serial;
        sources.push(`serial: IPMI FRU 0 ${fru.field}`);
      } else warnings.push(`${where}: FRU 0 names no product or chassis serial`);
    } catch (e) {
      // Many BMCs keep no FRU 0 ("Device not present"): the GUID alone must do; anything else is a real failure.
      if ((e as { code?: string }).code !== 'CC_ERR_BMC_REFUSED' && (e as { code?: string }).code !== 'CC_ERR_BMC_PROTOCOL') throw e;
      warnings.push(`${where} has no readable FRU 0: no serial (${(e as Error).message.slice(0, 160)})`);
    }
    return { uuid, serial, macs: [], sources, warnings };
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
          // The BMC acknowledges the command before the machine is off (ipmi_sim's chassis script, a real BMC's
          // power sequencing): read until it reports off, as for a cycle, not once right away (that read said "on"
          // once in a loaded CI run of test/bmc/ipmi-sim.test.ts).
          const after = await waitForPower(() => this.status(), 'off', transitionTimeoutMs, pollMs, this.deps.sleep);
          if (after !== 'off')
            warnings.push(`the machine has not reported power off ${Math.round(transitionTimeoutMs / 1000)} s after the forced off`);
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
