/**
 * A QEMU guest booted straight into a microkernel (`-kernel`/`-initrd`, no firmware network boot): the
 * microkernel benchmark times power-on -> /init with it, and the arm64 test proves the arm64 image runs.
 * x86-64: q35 + SeaBIOS, the CPU model of the e2e guests (qemu.ts X86_CPU), console ttyS0. arm64: `virt` + Cortex-A57, console ttyAMA0 (PL011). Always TCG.
 */
import { spawn } from 'node:child_process';
import { SerialLog, X86_CPU, type SerialLine } from './qemu.ts';

/** Architectures the microkernel is built for (Debian names, as in build/microkernel/arch.mjs). */
export type GuestArch = 'amd64' | 'arm64';

/** One direct-boot guest. */
export interface DirectBootSpec {
  arch: GuestArch;
  kernel: string;
  initrd: string;
  /** Kernel command line after the console argument. */
  append: string;
  memoryMb: number;
  cpus: number;
  serialFile: string;
  /** QEMU network arguments; none means no NIC at all. */
  net?: string[];
  /** SMBIOS type 1 serial number; Linux on arm64 sees SMBIOS only through UEFI, so pair it with `uefi` there. */
  serial?: string;
  /** Boot through UEFI firmware (it loads -kernel from QEMU's fw_cfg and runs its EFI stub): code and a writable vars copy. */
  uefi?: { code: string; vars: string };
}

/** A running direct-boot guest. */
export interface DirectGuest {
  pid: number;
  serial: SerialLog;
  /** Host clock when QEMU was spawned ("power-on"). */
  poweredOnAt: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** The QEMU binary and arguments for a spec. */
export function directBootCommand(s: DirectBootSpec): { cmd: string; args: string[] } {
  const arm = s.arch === 'arm64';
  const args = arm ? ['-machine', 'virt', '-cpu', 'cortex-a57'] : ['-machine', 'q35', '-cpu', X86_CPU];
  args.push('-accel', 'tcg', '-m', String(s.memoryMb), '-smp', String(s.cpus));
  args.push('-nographic', '-monitor', 'none', '-chardev', `file,id=ser0,path=${s.serialFile}`, '-serial', 'chardev:ser0');
  if (s.serial) args.push('-smbios', `type=1,manufacturer=Crashcart-Test,serial=${s.serial}`);
  if (s.uefi) {
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${s.uefi.code}`);
    args.push('-drive', `if=pflash,format=raw,unit=1,file=${s.uefi.vars}`);
  }
  args.push('-kernel', s.kernel, '-initrd', s.initrd);
  args.push('-append', `${arm ? 'console=ttyAMA0' : 'console=ttyS0,115200n8'} ${s.append}`);
  args.push(...(s.net ?? ['-nic', 'none']));
  return { cmd: arm ? 'qemu-system-aarch64' : 'qemu-system-x86_64', args };
}

/** Start a guest; its console goes to `spec.serialFile`, followed line by line with host stamps. */
export function startDirect(spec: DirectBootSpec): DirectGuest {
  const { cmd, args } = directBootCommand(spec);
  const serial = new SerialLog(spec.serialFile);
  const poweredOnAt = Date.now();
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  if (proc.pid === undefined) {
    serial.stop();
    throw new Error(`could not start ${cmd}\n  fix: apt-get install ${spec.arch === 'arm64' ? 'qemu-system-arm' : 'qemu-system-x86'}`);
  }
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { pid: proc.pid, serial, poweredOnAt, exited, stderr: () => err };
}

/** Wait for a console line matching `re`; rejects on timeout or when QEMU exits first (with the console tail). */
export async function waitForLine(g: DirectGuest, re: RegExp, timeoutMs: number, from = 0): Promise<SerialLine> {
  let gone = false;
  void g.exited.then(() => (gone = true));
  const start = Date.now();
  for (;;) {
    const hit = g.serial.find(re, from);
    if (hit) return hit;
    if (gone) throw new Error(`QEMU exited before the console showed ${re}\n${g.stderr()}\n--- console ---\n${g.serial.tail(30)}`);
    if (Date.now() - start > timeoutMs)
      throw new Error(`no console line ${re} after ${timeoutMs / 1000} s\n--- console ---\n${g.serial.tail(30)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stop a guest by its PID: SIGTERM, then SIGKILL after 5 s. */
export async function stopDirect(g: DirectGuest): Promise<void> {
  g.serial.stop();
  const timer = setTimeout(() => {
    try {
      process.kill(g.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 5000);
  try {
    process.kill(g.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  await g.exited;
  clearTimeout(timer);
}
