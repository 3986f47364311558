// The microkernel's driver loader (build/microkernel/rootfs/load-drivers) run by the busybox the image ships, against
// a made-up /sys: which modaliases the network group loads before DHCP and which the settle group loads in the
// background (storage controllers, the SCSI devices behind them, IPMI interfaces), in what order, and that a
// modalias with a quote, a space or shell syntax reaches modprobe as one untouched argument. modprobe is a
// stand-in that records its arguments (MODPROBE), so nothing is loaded on the host.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBin, microkernelBusybox, ROOT, script } from '../security/microkernel-sandbox.ts';

const LOADER = path.join(ROOT, 'build/microkernel/rootfs/load-drivers');
const config = JSON.parse(readFileSync(path.join(ROOT, 'build/microkernel/config.json'), 'utf8')) as {
  boot_modules: string[];
  settle_modules: string[];
};

/** Devices of the made-up machine: bus, name, modalias, PCI class. */
const DEVICES: { bus: string; name: string; alias: string; cls?: string }[] = [
  { bus: 'pci', name: '0000:00:02.0', alias: 'pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00', cls: '0x020000' },
  { bus: 'pci', name: '0000:00:1f.2', alias: 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01', cls: '0x010601' },
  { bus: 'pci', name: '0000:03:00.0', alias: 'pci:v00001000d00000097sv00001028sd00001F45bc01sc07i00', cls: '0x010700' },
  { bus: 'pci', name: '0000:04:00.0', alias: 'pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02', cls: '0x010802' },
  { bus: 'pci', name: '0000:00:1f.4', alias: 'pci:v00008086d00001C22sv00008086sd00007270bc0Csc07i01', cls: '0x0c0701' },
  { bus: 'pci', name: '0000:00:14.0', alias: 'pci:v00008086d00008C31sv00008086sd00007270bc0Csc03i30', cls: '0x0c0330' },
  { bus: 'virtio', name: 'virtio0', alias: 'virtio:d00000001v00001AF4' },
  { bus: 'scsi', name: '2:0:0:0', alias: 'scsi:t-0x05' },
  { bus: 'acpi', name: 'IPI0001:00', alias: 'acpi:IPI0001:' },
  { bus: 'platform', name: 'dmi-ipmi-si.0', alias: 'platform:dmi-ipmi-si' },
  { bus: 'acpi', name: 'PNP0501:00', alias: 'acpi:PNP0501:' },
  // Firmware chooses ACPI and devicetree names: text a shell must never split or evaluate.
  { bus: 'platform', name: 'odd.0', alias: "of:NoddT(null)Cx'y $(touch PWNED) `id`" },
  // A device without a modalias (a bridge, a partition) is skipped.
  { bus: 'pci', name: '0000:00:00.0', alias: '', cls: '0x060000' },
];
const NETWORK = DEVICES.filter(
  (d) => ['0x02', '0x0c03'].some((c) => d.cls?.startsWith(c)) || ['virtio', 'acpi:PNP', 'of:'].some((p) => d.alias.startsWith(p)),
);
const SETTLE = DEVICES.filter((d) => d.alias !== '' && !NETWORK.includes(d));

let t = '';
let bb = '';
let calls = '';

beforeAll(() => {
  t = mkdtempSync(path.join(os.tmpdir(), 'cc-load-drivers-'));
  bb = makeBin(t, microkernelBusybox().file);
  for (const d of DEVICES) {
    const dir = path.join(t, 'sys/bus', d.bus, 'devices', d.name);
    mkdirSync(dir, { recursive: true });
    if (d.alias) writeFileSync(path.join(dir, 'modalias'), `${d.alias}\n`);
    if (d.cls) writeFileSync(path.join(dir, 'class'), `${d.cls}\n`);
  }
  mkdirSync(path.join(t, 'etc/crashcart'), { recursive: true });
  writeFileSync(path.join(t, 'etc/crashcart/boot-modules'), `${config.boot_modules.join('\n')}\n`);
  writeFileSync(path.join(t, 'etc/crashcart/settle-modules'), `${config.settle_modules.join('\n')}\n`);
  calls = path.join(t, 'calls');
  // One line per call, each argument between < and >.
  // It also notes its nice value (field 19 of /proc/self/stat), to see the settle group run at a lower priority.
  script(
    path.join(t, 'modprobe'),
    `#!${bb} sh\n{ printf 'modprobe'; for a in "$@"; do printf ' <%s>' "$a"; done; echo; } >>${calls}\ncut -d' ' -f19 /proc/$$/stat >${calls}.nice\n`,
  );
});
afterAll(() => rmSync(t, { recursive: true, force: true }));

/** Run the loader in `mode`; returns the recorded calls. */
function run(mode: string): string[] {
  writeFileSync(calls, '');
  execFileSync(bb, ['sh', LOADER, mode], {
    cwd: t,
    env: {
      PATH: path.join(t, 'bin'),
      SYSFS: path.join(t, 'sys'),
      ETC: path.join(t, 'etc'),
      MODPROBE: path.join(t, 'modprobe'),
    },
  });
  return readFileSync(calls, 'utf8').split('\n').filter(Boolean);
}

/** The modprobe line for a modalias pass over `devs`: sorted, one argument each. */
const pass = (devs: typeof DEVICES) =>
  `modprobe <-a> <-q> <-b> ${devs
    .map((d) => d.alias)
    .sort()
    .map((a) => `<${a}>`)
    .join(' ')}`;
const byName = (mods: string[]) => `modprobe <-a> <-q> ${mods.map((m) => `<${m}>`).join(' ')}`;

describe('load-drivers', () => {
  it('network: two passes over every device outside the slow group, then boot-modules; no storage, SCSI or IPMI', () => {
    expect(run('network')).toEqual([pass(NETWORK), pass(NETWORK), byName(config.boot_modules)]);
  });

  it('settle: storage controllers, the SCSI devices behind them and IPMI interfaces, settle-modules, the group again', () => {
    run('network');
    const base = Number(readFileSync(`${calls}.nice`, 'utf8'));
    expect(run('settle')).toEqual([pass(SETTLE), byName(config.settle_modules), pass(SETTLE)]);
    // At a lower priority than the network group (renice +10, at most 19), so DHCP and Node's start go first.
    expect(Number(readFileSync(`${calls}.nice`, 'utf8'))).toBe(Math.min(base + 10, 19));
  });

  it('hands a hostile modalias to modprobe as one argument and runs nothing in it', () => {
    const lines = run('network').join('\n');
    expect(lines).toContain("<of:NoddT(null)Cx'y $(touch PWNED) `id`>");
    expect(() => readFileSync(path.join(t, 'PWNED'))).toThrow();
  });

  it('the storage and IPMI drivers are settle modules, not boot modules (the network never waits for a disk scan)', () => {
    for (const m of ['sd_mod', 'sr_mod', 'ipmi_si', 'ipmi_devintf', 'ipmi_ssif']) {
      expect(config.settle_modules).toContain(m);
      expect(config.boot_modules).not.toContain(m);
    }
    expect(config.boot_modules).toEqual(expect.arrayContaining(['af_packet', 'virtio_pci', 'virtio_net']));
  });

  it('refuses an unknown mode with its usage', () => {
    expect(() => execFileSync(bb, ['sh', LOADER, 'everything'], { stdio: 'pipe' })).toThrow(/usage: load-drivers network\|settle/);
  });
});
