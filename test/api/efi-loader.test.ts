/**
 * `--efi-loader` has one source of truth: the setting `default_efi_loader`,
 * which the boot flow reads. The flag seeds it at start; the UI changes it
 * later; a start without the flag keeps what is stored.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { startInProcess, tmpDir, type InProcessAppliance } from '../support/appliance.ts';
import { bootHooks } from '../../server/nodes/boot-flow.ts';
import { loadServeConfig } from '../../server/config/load.ts';

const MAC = '52:54:00:ef:00:01';
let running: InProcessAppliance | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function start(dataDir: string, flags: string[]): Promise<InProcessAppliance> {
  running = await startInProcess(['--data-dir', dataDir, ...flags]);
  return running;
}
/** What DHCP would offer a UEFI x86 client with no per-node override. */
const offered = (t: InProcessAppliance) => bootHooks(t.app.ctx).efiLoaderFor(MAC);
const setting = async (t: InProcessAppliance) =>
  (await t.admin.inject({ method: 'GET', url: '/api/v1/settings', headers: { authorization: `Bearer ${await t.token()}` } })).json()
    .default_efi_loader;

describe('--efi-loader', () => {
  it('is null in the config when not given, so nothing is seeded', () => {
    const machine = { interfaces: () => ({}), ifindex: () => null, env: {} };
    expect(loadServeConfig([], machine).efiLoader).toBeNull();
    expect(loadServeConfig(['--efi-loader', 'snponly.efi'], machine).efiLoader).toBe('snponly.efi');
    expect(() => loadServeConfig(['--efi-loader', 'grub.efi'], machine)).toThrow(/--efi-loader must be one of/);
  });

  it('seeds the setting the boot flow reads; the UI changes it; a start without the flag keeps it', async () => {
    const dataDir = await tmpDir('cc-efi-');
    let t = await start(dataDir, ['--efi-loader', 'snponly.efi']);
    expect(await setting(t)).toBe('snponly.efi');
    expect(await offered(t)).toBe('snponly.efi');

    const patch = await t.admin.inject({
      method: 'PATCH',
      url: '/api/v1/settings',
      headers: { authorization: `Bearer ${await t.token()}` },
      payload: { default_efi_loader: 'ipxe.efi' },
    });
    expect(patch.statusCode).toBe(200);
    expect(await offered(t)).toBe('ipxe.efi');
    await t.stop();
    running = null;

    t = await start(dataDir, []);
    expect(await setting(t)).toBe('ipxe.efi');
    expect(await offered(t)).toBe('ipxe.efi');
    await t.stop();
    running = null;

    t = await start(dataDir, ['--efi-loader', 'snponly.efi']);
    expect(await offered(t)).toBe('snponly.efi');
  });
});
