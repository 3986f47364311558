/**
 * Pure decisions about a Redfish ComputerSystem (DSP0268): its power state,
 * which ResetType requests carry out an action given what the system offers,
 * and the `Boot` PATCH for a boot override plus the check of its read-back.
 */
import type { PowerAction, PowerState } from '../../../contract/index.ts';
import type { BootRequest } from '../driver.ts';
import { allowable, str } from './answers.ts';

/** ResetType values we send (ResetType enum of DSP0268 Resource). */
export type ResetType = 'On' | 'ForceOn' | 'ForceOff' | 'GracefulShutdown' | 'ForceRestart' | 'PowerCycle';

/** One step of a power action. */
export type PowerStep =
  | { kind: 'reset'; type: ResetType }
  /** Wait for Off up to the soft-off timeout, then send `then` (ForceOff) if still on. */
  | { kind: 'wait-off-soft'; then: ResetType | null }
  /** Wait for Off after a forced off (bounded by a few request timeouts). */
  | { kind: 'wait-off' };

/** The steps for an action, or why it cannot be done. */
export type PowerPlan = { steps: PowerStep[]; warnings: string[] } | { refused: string };

/** ResetTypes assumed when a system lists no AllowableValues: the ones every ComputerSystem 1.0 service had. */
const ASSUMED: readonly string[] = ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart'];

/** The system's PowerState as on/off/unknown; transitions count as on (the machine still draws power). */
export function powerStateOf(sys: Record<string, unknown>): PowerState {
  const s = str(sys['PowerState']);
  if (s === 'Off') return 'off';
  if (s === 'On' || s === 'PoweringOn' || s === 'PoweringOff' || s === 'Paused') return 'on';
  return 'unknown';
}

/** Plan `action` on a system in `state` offering `offered` ResetTypes (null = not said). */
export function resetPlan(action: PowerAction, state: PowerState, offered: string[] | null): PowerPlan {
  const has = (t: ResetType) => (offered ?? ASSUMED).includes(t);
  const list = () => (offered ?? ASSUMED).join(', ') || 'none';
  const powerOn = (): ResetType | null => (has('On') ? 'On' : has('ForceOn') ? 'ForceOn' : null);
  const on = powerOn();
  switch (action) {
    case 'status':
      return { steps: [], warnings: [] };
    case 'on':
      // Some BMCs answer 409 to On when already on: nothing to do is not an error.
      if (state === 'on') return { steps: [], warnings: [] };
      return on ? { steps: [{ kind: 'reset', type: on }], warnings: [] } : { refused: `no On among the offered ResetTypes (${list()})` };
    case 'soft-off':
      if (state === 'off') return { steps: [], warnings: [] };
      return has('GracefulShutdown')
        ? { steps: [{ kind: 'reset', type: 'GracefulShutdown' }], warnings: [] }
        : { refused: `no GracefulShutdown among the offered ResetTypes (${list()}); use off` };
    case 'off':
      if (state === 'off') return { steps: [], warnings: [] };
      if (has('GracefulShutdown'))
        return {
          steps: [
            { kind: 'reset', type: 'GracefulShutdown' },
            { kind: 'wait-off-soft', then: has('ForceOff') ? 'ForceOff' : null },
          ],
          warnings: [],
        };
      if (has('ForceOff'))
        return {
          steps: [{ kind: 'reset', type: 'ForceOff' }, { kind: 'wait-off' }],
          warnings: ['the BMC offers no GracefulShutdown: forced off'],
        };
      return { refused: `no GracefulShutdown or ForceOff among the offered ResetTypes (${list()})` };
    case 'cycle':
    case 'reset': {
      if (state === 'off') {
        if (!on) return { refused: `the system is off and no On is offered (${list()})` };
        return {
          steps: [{ kind: 'reset', type: on }],
          warnings: [`the machine was off: powered on instead of ${action === 'cycle' ? 'cycled' : 'reset'}`],
        };
      }
      const order: ResetType[] = action === 'cycle' ? ['PowerCycle'] : ['ForceRestart', 'PowerCycle'];
      const direct = order.find(has);
      if (direct) return { steps: [{ kind: 'reset', type: direct }], warnings: [] };
      if (has('ForceOff') && on)
        return { steps: [{ kind: 'reset', type: 'ForceOff' }, { kind: 'wait-off' }, { kind: 'reset', type: on }], warnings: [] };
      return { refused: `no ${order.join(' or ')} (nor ForceOff + On) among the offered ResetTypes (${list()})` };
    }
  }
}

/** The `Boot` object sent. */
export interface BootPatch {
  BootSourceOverrideTarget: string;
  BootSourceOverrideEnabled: 'Once' | 'Continuous';
  BootSourceOverrideMode?: 'UEFI' | 'Legacy';
}

const TARGET: Record<BootRequest['device'], string> = { pxe: 'Pxe', disk: 'Hdd', bios: 'BiosSetup' };

/** The PATCH body for a boot override, checked against the AllowableValues the system's `Boot` lists. */
export function bootPatch(req: BootRequest, boot: Record<string, unknown>): { boot: BootPatch; warnings: string[] } | { refused: string } {
  const target = TARGET[req.device];
  const targets = allowable(boot['BootSourceOverrideTarget@Redfish.AllowableValues']);
  if (targets && !targets.includes(target))
    return { refused: `boot target ${target} is not offered (offered: ${targets.join(', ') || 'none'})` };
  const enabled = req.persistent ? 'Continuous' : 'Once';
  const enables = allowable(boot['BootSourceOverrideEnabled@Redfish.AllowableValues']);
  if (enables && !enables.includes(enabled))
    return { refused: `BootSourceOverrideEnabled ${enabled} is not offered (offered: ${enables.join(', ')})` };
  const out: BootPatch = { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: enabled };
  const warnings: string[] = [];
  // No mode asked (a node whose firmware mode is unknown): the firmware keeps its own mode.
  if (req.mode && 'BootSourceOverrideMode' in boot) {
    const mode = req.mode === 'uefi' ? 'UEFI' : 'Legacy';
    const modes = allowable(boot['BootSourceOverrideMode@Redfish.AllowableValues']);
    if (modes && !modes.includes(mode)) return { refused: `boot mode ${mode} is not offered (offered: ${modes.join(', ')})` };
    out.BootSourceOverrideMode = mode;
  } else if (req.mode) warnings.push('the BMC has no boot mode setting: the firmware boots in its own mode');
  return { boot: out, warnings };
}

/** Compare what the BMC reports after the PATCH with what was sent: a different target is a refusal, the rest warnings. */
export function checkBootReadBack(sent: BootPatch, got: Record<string, unknown>): { warnings: string[] } | { refused: string } {
  const target = str(got['BootSourceOverrideTarget']);
  if (target !== sent.BootSourceOverrideTarget)
    return { refused: `accepted boot target ${sent.BootSourceOverrideTarget} but reports ${target ?? 'none'}` };
  const warnings: string[] = [];
  const enabled = str(got['BootSourceOverrideEnabled']);
  if (enabled !== sent.BootSourceOverrideEnabled)
    warnings.push(`asked for BootSourceOverrideEnabled ${sent.BootSourceOverrideEnabled}, the BMC reports ${enabled ?? 'nothing'}`);
  const mode = str(got['BootSourceOverrideMode']);
  if (sent.BootSourceOverrideMode && mode !== sent.BootSourceOverrideMode)
    warnings.push(`asked for boot mode ${sent.BootSourceOverrideMode}, the BMC reports ${mode ?? 'nothing'}`);
  return { warnings };
}
