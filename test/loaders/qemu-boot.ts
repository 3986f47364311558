/**
 * Boot a QEMU guest from QEMU's user-mode network (its built-in DHCP + TFTP server, `-netdev user,tftp=DIR,
 * bootfile=FILE`, restricted so the guest reaches nothing else) and watch the serial console until a
 * pattern appears, the guest powers off, or a bound passes. Firmware: Debian's OVMF (x86_64) and AAVMF
 * (arm64), with a private copy of the variable store per boot, and SeaBIOS (x86 BIOS) with QEMU's iPXE NIC ROM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';

/** Which machine and firmware to start. */
export type Firmware = 'ovmf' | 'ovmf-secureboot' | 'aavmf' | 'aavmf-secureboot' | 'seabios';

/** The result of one boot: what the console showed and how it ended. */
export interface BootResult {
  /** Serial console text with ANSI control sequences removed. */
  readonly console: string;
  /** The `until` pattern matched (QEMU was then killed). */
  readonly matched: boolean;
  /** QEMU exited by itself (e.g. GRUB's `halt` powered the guest off). */
  readonly exited: boolean;
  /** The console as it came, control sequences and all. */
  readonly raw: string;
  /** When each piece of `raw` arrived: ms after QEMU was started, and where in `raw` the piece ended (bench/loaders). */
  readonly arrivals: readonly { readonly ms: number; readonly rawEnd: number }[];
}

const ESC = String.fromCharCode(27);
/** ANSI control sequences firmware writes to the serial port (cursor moves, colours, clear screen). */
const ANSI = new RegExp(`${ESC}\\[[0-9;=?]*[A-Za-z]|${ESC}c`, 'g');

const running = new Set<ChildProcess>();

/** Kill every guest this module started (afterAll). */
export function killGuests(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

function machineArgs(fw: Firmware, varsCopy: string): { bin: string; args: string[] } {
  // SeaBIOS has no PXE client of its own: the NIC's option ROM (QEMU's iPXE build) is the PXE ROM that fetches the
  // boot file. graphics=off puts SeaBIOS's and the ROM's screen on the serial console.
  if (fw === 'seabios') return { bin: 'qemu-system-x86_64', args: ['-machine', 'pc,graphics=off', '-m', '256', '-boot', 'n'] };
  if (fw === 'aavmf' || fw === 'aavmf-secureboot') {
    const ms = fw === 'aavmf-secureboot' ? '.ms' : '';
    copyFileSync(`/usr/share/AAVMF/AAVMF_VARS${ms}.fd`, varsCopy);
    return {
      bin: 'qemu-system-aarch64',
      args: ['-machine', 'virt', '-cpu', 'cortex-a57', '-m', '1024', ...pflash(`/usr/share/AAVMF/AAVMF_CODE${ms}.fd`, varsCopy)],
    };
  }
  if (fw === 'ovmf-secureboot') {
    // Microsoft keys enrolled and Secure Boot enforced (PXE-NOTES "Secure Boot"): SMM guards the variable store.
    copyFileSync('/usr/share/OVMF/OVMF_VARS_4M.ms.fd', varsCopy);
    return {
      bin: 'qemu-system-x86_64',
      args: [
        '-machine',
        'q35,smm=on',
        '-global',
        'driver=cfi.pflash01,property=secure,value=on',
        '-m',
        '512',
        ...pflash('/usr/share/OVMF/OVMF_CODE_4M.ms.fd', varsCopy),
      ],
    };
  }
  copyFileSync('/usr/share/OVMF/OVMF_VARS_4M.fd', varsCopy);
  return { bin: 'qemu-system-x86_64', args: ['-machine', 'q35', '-m', '512', ...pflash('/usr/share/OVMF/OVMF_CODE_4M.fd', varsCopy)] };
}

function pflash(code: string, vars: string): string[] {
  return ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${code}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`];
}

/** Keys typed on the serial console: `send` every `everyMs` from the moment `after` shows until the boot ends. */
export interface Typing {
  readonly after: RegExp;
  readonly send: string;
  readonly everyMs: number;
}

/**
 * PXE-boot `bootFile` from `tftpDir` and resolve once `until` shows on the console, QEMU exits, or `boundMs` passes;
 * with `typing`, keys go to the serial console as a user holding one down would send them.
 */
export function pxeBoot(
  fw: Firmware,
  tftpDir: string,
  bootFile: string,
  until: RegExp,
  boundMs: number,
  typing?: Typing,
): Promise<BootResult> {
  const { bin, args } = machineArgs(fw, path.join(tftpDir, '..', `vars-${fw}-${process.pid}.fd`));
  const child = spawn(
    bin,
    [
      '-accel',
      'tcg',
      ...args,
      '-display',
      'none',
      '-nodefaults',
      '-no-reboot',
      '-serial',
      'stdio',
      '-monitor',
      'none',
      '-netdev',
      `user,id=n0,restrict=on,tftp=${tftpDir},bootfile=${bootFile}`,
      // UEFI: no option ROM, the firmware's own virtio-net driver and PXE client, so any iPXE on screen is ours.
      '-device',
      fw === 'seabios' ? 'virtio-net-pci,netdev=n0' : 'virtio-net-pci,netdev=n0,romfile=',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  running.add(child);
  const started = performance.now();
  const arrivals: { ms: number; rawEnd: number }[] = [];
  let raw = '';
  return new Promise((resolve, reject) => {
    let settled = false;
    let keys: NodeJS.Timeout | undefined;
    const finish = (matched: boolean, exited: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      clearInterval(keys);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      running.delete(child);
      resolve({ console: raw.replace(ANSI, '').replace(/\r/g, ''), matched, exited, raw, arrivals });
    };
    const bound = setTimeout(() => finish(false, false), boundMs);
    const watch = (b: Buffer) => {
      raw += b.toString('latin1');
      arrivals.push({ ms: performance.now() - started, rawEnd: raw.length });
      const text = raw.replace(ANSI, '');
      if (typing && !keys && typing.after.test(text)) keys = setInterval(() => child.stdin.write(typing.send), typing.everyMs);
      if (until.test(text)) finish(true, false);
    };
    child.stdin.on('error', () => undefined); // QEMU gone: the boot is over anyway
    child.stdout.on('data', watch);
    child.stderr.on('data', (b: Buffer) => {
      raw += b.toString('latin1');
      arrivals.push({ ms: performance.now() - started, rawEnd: raw.length });
    });
    child.on('error', (e) => {
      settled = true;
      clearTimeout(bound);
      clearInterval(keys);
      reject(
        new Error(`${bin} could not start (${e.message}); fix: apt-get install qemu-system-x86 qemu-system-arm ovmf qemu-efi-aarch64`),
      );
    });
    child.on('exit', () => finish(until.test(raw.replace(ANSI, '')), true));
  });
}
