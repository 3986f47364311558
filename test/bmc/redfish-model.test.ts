import { describe, it, expect } from 'vitest';
import { bootPatch, checkBootReadBack, powerStateOf, resetPlan } from '../../server/bmc/redfish/system-model.ts';
import { answerError, credentialForms, odataId, redfishMessage } from '../../server/bmc/redfish/answers.ts';

// ResetType AllowableValues as sushy-tools' system.json lists them, and as a BMC offering PowerCycle does.
const SUSHY = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn'];
const WITH_CYCLE = ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'];

describe('Redfish power plans', () => {
  it('maps PowerState, counting transitions as on', () => {
    expect(powerStateOf({ PowerState: 'On' })).toBe('on');
    expect(powerStateOf({ PowerState: 'PoweringOff' })).toBe('on');
    expect(powerStateOf({ PowerState: 'Off' })).toBe('off');
    expect(powerStateOf({ PowerState: 42 })).toBe('unknown');
    expect(powerStateOf({})).toBe('unknown');
  });

  it('on / soft-off / off', () => {
    expect(resetPlan('on', 'off', SUSHY)).toEqual({ steps: [{ kind: 'reset', type: 'On' }], warnings: [] });
    expect(resetPlan('on', 'on', SUSHY)).toEqual({ steps: [], warnings: [] });
    expect(resetPlan('on', 'off', ['ForceOn'])).toEqual({ steps: [{ kind: 'reset', type: 'ForceOn' }], warnings: [] });
    expect(resetPlan('on', 'off', ['ForceOff'])).toHaveProperty('refused');
    expect(resetPlan('soft-off', 'on', SUSHY)).toEqual({ steps: [{ kind: 'reset', type: 'GracefulShutdown' }], warnings: [] });
    expect(resetPlan('soft-off', 'on', ['ForceOff'])).toHaveProperty('refused');
    expect(resetPlan('off', 'on', SUSHY)).toEqual({
      steps: [
        { kind: 'reset', type: 'GracefulShutdown' },
        { kind: 'wait-off-soft', then: 'ForceOff' },
      ],
      warnings: [],
    });
    expect(resetPlan('off', 'on', ['ForceOff', 'On'])).toEqual({
      steps: [{ kind: 'reset', type: 'ForceOff' }, { kind: 'wait-off' }],
      warnings: ['the BMC offers no GracefulShutdown: forced off'],
    });
    expect(resetPlan('off', 'off', SUSHY)).toEqual({ steps: [], warnings: [] });
  });

  it('cycle and reset use what is offered, and power on a machine that is off', () => {
    expect(resetPlan('cycle', 'on', WITH_CYCLE)).toEqual({ steps: [{ kind: 'reset', type: 'PowerCycle' }], warnings: [] });
    expect(resetPlan('cycle', 'on', SUSHY)).toEqual({
      steps: [{ kind: 'reset', type: 'ForceOff' }, { kind: 'wait-off' }, { kind: 'reset', type: 'On' }],
      warnings: [],
    });
    expect(resetPlan('reset', 'on', SUSHY)).toEqual({ steps: [{ kind: 'reset', type: 'ForceRestart' }], warnings: [] });
    expect(resetPlan('reset', 'on', ['PowerCycle', 'On'])).toEqual({ steps: [{ kind: 'reset', type: 'PowerCycle' }], warnings: [] });
    const off = resetPlan('cycle', 'off', SUSHY);
    expect(off).toEqual({ steps: [{ kind: 'reset', type: 'On' }], warnings: ['the machine was off: powered on instead of cycled'] });
    expect(resetPlan('reset', 'on', ['On'])).toHaveProperty('refused');
  });

  it('assumes the ComputerSystem 1.0 ResetTypes when none are listed', () => {
    expect(resetPlan('reset', 'on', null)).toEqual({ steps: [{ kind: 'reset', type: 'ForceRestart' }], warnings: [] });
    expect(resetPlan('cycle', 'on', null)).toMatchObject({ steps: [{ type: 'ForceOff' }, { kind: 'wait-off' }, { type: 'On' }] });
  });
});

describe('Redfish boot override', () => {
  // The Boot object sushy-tools serves for a UEFI system.
  const boot = {
    BootSourceOverrideEnabled: 'Continuous',
    BootSourceOverrideTarget: 'Hdd',
    'BootSourceOverrideTarget@Redfish.AllowableValues': ['Pxe', 'Cd', 'Hdd', 'UefiHttp'],
    BootSourceOverrideMode: 'UEFI',
  };

  it('builds the PATCH from the request, checked against AllowableValues', () => {
    expect(bootPatch({ device: 'pxe', persistent: false, mode: 'legacy' }, boot)).toEqual({
      boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'Legacy' },
      warnings: [],
    });
    expect(bootPatch({ device: 'disk', persistent: true, mode: 'uefi' }, boot)).toMatchObject({
      boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'UEFI' },
    });
    expect(bootPatch({ device: 'bios', persistent: false, mode: 'uefi' }, boot)).toEqual({
      refused: 'boot target BiosSetup is not offered (offered: Pxe, Cd, Hdd, UefiHttp)',
    });
    const noMode = bootPatch({ device: 'pxe', persistent: false, mode: 'uefi' }, { BootSourceOverrideTarget: 'None' });
    expect(noMode).toMatchObject({
      boot: { BootSourceOverrideTarget: 'Pxe' },
      warnings: ['the BMC has no boot mode setting: the firmware boots in its own mode'],
    });
    expect(noMode).not.toHaveProperty('boot.BootSourceOverrideMode');
    expect(
      bootPatch(
        { device: 'pxe', persistent: false, mode: 'uefi' },
        { ...boot, 'BootSourceOverrideEnabled@Redfish.AllowableValues': ['Continuous'] },
      ),
    ).toHaveProperty('refused');
  });

  it('reads back: another target is a refusal, another frequency or mode a warning', () => {
    const sent = { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' } as const;
    expect(checkBootReadBack(sent, { ...boot, BootSourceOverrideTarget: 'Pxe' })).toEqual({
      warnings: ['asked for BootSourceOverrideEnabled Once, the BMC reports Continuous'],
    });
    expect(checkBootReadBack(sent, { ...boot, BootSourceOverrideTarget: 'Hdd' })).toEqual({
      refused: 'accepted boot target Pxe but reports Hdd',
    });
    expect(
      checkBootReadBack(sent, { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'Legacy' }),
    ).toEqual({
      warnings: ['asked for boot mode UEFI, the BMC reports Legacy'],
    });
  });
});

describe('Redfish answers', () => {
  it('maps statuses and quotes the Redfish error message', () => {
    const body = {
      error: {
        code: 'Base.1.0.GeneralError',
        message: 'Incorrect username or password',
        '@Message.ExtendedInfo': [{ Message: 'Login failed' }],
      },
    };
    const a = (status: number) =>
      answerError({ status, headers: {}, json: body, text: '' }, 'Redfish BMC x:443', 'GET /redfish/v1/Systems', []);
    expect(a(401).code).toBe('CC_ERR_BMC_AUTH');
    expect(a(401).message).toContain('Incorrect username or password; Login failed');
    expect(a(403).code).toBe('CC_ERR_BMC_AUTH');
    expect(a(400).code).toBe('CC_ERR_BMC_REFUSED');
    expect(a(503).code).toBe('CC_ERR_BMC_UNREACHABLE');
    expect(redfishMessage(null, '  <html>  oops </html> ', [])).toBe('<html> oops </html>');
  });

  it('cuts every form of the credentials out of what it quotes, before cutting the message short', () => {
    const pw = 'pa ss"wo\\rd';
    const secrets = credentialForms('admin', pw);
    expect(secrets).toEqual([pw, 'pa ss\\"wo\\\\rd', Buffer.from(`admin:${pw}`).toString('base64')]);
    expect(credentialForms('admin', '')).toEqual([]);
    const json = { error: { message: `bad password ${pw}`, '@Message.ExtendedInfo': [{ Message: `got ${secrets[2]}` }] } };
    const e = answerError(
      { status: 401, headers: {}, json, text: '' },
      'Redfish BMC x:443',
      'POST /redfish/v1/SessionService/Sessions',
      secrets,
    );
    expect(e.message).toContain('bad password [redacted]; got [redacted]');
    // Raw text (not a Redfish error): the session body echoed JSON-escaped, then the password itself, whose space folding must not hide.
    const raw = redfishMessage(null, `{"UserName":"admin","Password":"${secrets[1]}"}\n\n  ${pw}`, secrets);
    expect(raw).toBe('{"UserName":"admin","Password":"[redacted]"} [redacted]');
    // Where the 300-character cut falls inside the password, no part of it is left.
    const long = redfishMessage({ error: { message: 'x'.repeat(295) + pw } }, '', secrets);
    expect(long).toBe('x'.repeat(295) + '[reda');
    for (const m of [e.message, raw, long]) for (const part of ['pa ss', 'wo\\rd', secrets[2]!.slice(0, 8)]) expect(m).not.toContain(part);
  });

  it('follows only links to paths on the same service', () => {
    expect(odataId({ '@odata.id': '/redfish/v1/Systems/1' })).toBe('/redfish/v1/Systems/1');
    for (const bad of ['https://evil.example/redfish/v1/Systems', '//evil/redfish', '/other/path', '/redfish/v1/x?y', 7, null])
      expect(odataId({ '@odata.id': bad })).toBeUndefined();
  });
});
