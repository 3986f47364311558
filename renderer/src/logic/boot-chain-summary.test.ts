import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../../contract/events.ts';
import { chainSummary } from './boot-chain-summary.ts';

let seq = 0;
const ev = (type: string, data: Record<string, unknown> = {}, message = type): CcEvent =>
  ({
    seq: ++seq,
    ts: new Date(Date.parse('2026-01-01T00:00:00Z') + seq * 1000).toISOString(),
    type,
    node_id: 1,
    mac: '52:54:00:00:00:01',
    message,
    data,
  }) as CcEvent; // a fixture: only the fields the summary reads

describe('boot chain summary', () => {
  it('names each chain from the DHCP answer that started it', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ file: 'undionly.kpxe', arch: 0 }, 'BIOS iPXE'],
      [{ file: 'snponly.efi', arch: 7 }, 'UEFI iPXE'],
      [{ file: 'shimx64.efi', arch: 7 }, 'shim/GRUB (Secure Boot capable)'],
      [{ file: 'shimaa64.efi', arch: 11 }, 'shim/GRUB (Secure Boot capable)'],
      [{ file: 'http://10.0.0.1:8026/ipxe/ipxe.efi', arch: 16, vendor_class: 'HTTPClient:Arch:00016' }, 'UEFI HTTP boot'],
      [{ file: 'grubaa64.efi', arch: 22 }, 'U-Boot (UEFI GRUB)'],
    ];
    for (const [data, label] of cases) expect(chainSummary([ev('dhcp.offer', data)]).label).toBe(label);
  });

  it('says where a shim/GRUB boot stopped, stage by stage', () => {
    const boot = [
      ev('dhcp.offer', { file: 'shimx64.efi', arch: 7 }),
      ev('tftp.finish', { file: 'shimx64.efi' }),
      ev('tftp.finish', { file: 'grubx64.efi' }),
      ev('tftp.finish', { file: 'grub/grub.cfg' }),
      ev('tftp.finish', { file: 'mk/vmlinuz' }),
      ev('node.registered'),
    ];
    const stops = boot.map((_, i) => chainSummary(boot.slice(0, i + 1)).stoppedAt);
    expect(stops).toEqual(['dhcp', 'loader', 'loader', 'config', 'kernel', 'registered']);
    expect(chainSummary([...boot].reverse()).stoppedAtLabel).toBe('registered');
  });

  it('a refused iPXE then the signed chain: the latest boot counts, with the reason', () => {
    const s = chainSummary([
      ev('dhcp.offer', { file: 'ipxe.efi', arch: 7 }),
      ev('tftp.finish', { file: 'ipxe.efi' }),
      ev('node.chain', { reason: 'ipxe-refused' }, 'Node 1 fetched iPXE but never ran it'),
      ev('dhcp.offer', { file: 'shimx64.efi', arch: 7 }),
    ]);
    expect(s).toMatchObject({ chain: 'shim-grub', stoppedAt: 'dhcp', note: 'Node 1 fetched iPXE but never ran it' });
  });

  it('an unserved firmware: no chain, the event says why', () => {
    const s = chainSummary([ev('dhcp.discover', { arch: 6 }), ev('dhcp.unsupported', { arch: 6 }, 'EFI IA32 firmware: no loader')]);
    expect(s).toMatchObject({ chain: null, label: 'unknown', stoppedAt: 'dhcp', note: 'EFI IA32 firmware: no loader' });
  });

  it('no events: nothing seen', () => {
    expect(chainSummary([])).toMatchObject({ chain: null, stoppedAt: null, stoppedAtLabel: 'no boot seen' });
  });
});
