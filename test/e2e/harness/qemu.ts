/**
 * QEMU guests for the e2e boot test: a BIOS machine (SeaBIOS + the iPXE option ROM from ipxe-qemu) and a
 * UEFI machine (OVMF with the NIC's option ROM disabled, so the firmware's own PXE client does
 * DHCP -> TFTP). No disk, network boot only, serial console to a file that the test follows line by line
 * and stamps with the host clock (the per-phase timings come from those stamps and the event log).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, openSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';

/** Firmware files from Debian's ovmf package. */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/** OVMF with Microsoft's keys enrolled and Secure Boot enforced (Debian's ovmf package, PXE-NOTES). */
export const OVMF_CODE_MS = '/usr/share/OVMF/OVMF_CODE_4M.ms.fd';
const OVMF_VARS_MS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';
/** arm64 firmware from Debian's qemu-efi-aarch64 (AAVMF: edk2 for QEMU's `virt` board). */
export const AAVMF_CODE = '/usr/share/AAVMF/AAVMF_CODE.fd';
const AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.fd';
/** QEMU's virtio-net boot ROM (iPXE), from ipxe-qemu. */
export const IPXE_VIRTIO_ROM = '/usr/lib/ipxe/qemu/efi-virtio.rom';

const ESC = String.fromCharCode(27);
/** ANSI control sequences (cursor moves, colours, clear screen) that firmware writes to the serial port. */
const CSI_SEQUENCE = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');
/** Terminal reset (ESC c), sent by SeaBIOS and the kernel. */
const RESET_SEQUENCE = new RegExp(`${ESC}c`, 'g');

/**
 * The x86 guests' CPU: QEMU's default TCG model (qemu64) with RDRAND, as every x86 server CPU has had since 2012
 * (Intel Ivy Bridge) and 2017 (AMD Zen). Without it the guest kernel has no trusted CPU entropy and collects timer
 * jitter for its CRNG, which on TCG took 1.0-1.3 s after /init, and Node's start blocks on it: Node seeds OpenSSL's
 * CSPRNG (getrandom) before it runs any script (docs/perf/changes.md, "The guests' CPU has RDRAND").
 */
export const X86_CPU = 'qemu64,+rdrand';

/** What one guest looks like. */
export interface GuestSpec {
  name: string;
  firmware: 'bios' | 'uefi';
  /** x86_64 (default: q35) or arm64 (`virt` board, Cortex-A57, AAVMF; UEFI only), as issue 16 names it. */
  arch?: 'x86_64' | 'arm64';
  /** UEFI only: Microsoft keys enrolled, Secure Boot enforced (SMM guards the variable store). */
  secureBoot?: boolean;
  /** More QEMU arguments (e.g. `-fw_cfg` switches of OVMF, OvmfPkg/RUNTIME_CONFIG.md). */
  extraArgs?: string[];
  memoryMb: number;
  cpus: number;
  serial: string;
  uuid: string;
  /** One tap per MAC; the first NIC is the boot NIC. */
  nics: { mac: string; tap: string }[];
  /** virtio disks (raw files), booted after the NIC in this order. */
  disks?: { file: string; serial: string }[];
  /**
   * SATA disks (raw files) on the q35 board's AHCI controller, never booted: a disk behind the driver the
   * microkernel loads in the background (rootfs/load-drivers settle). Ports 0, 1, 3, ...: QEMU's default DVD drive
   * holds port 2. `wwn` (0x and 16 hex digits) goes into the disk's ATA IDENTIFY data, as a real disk's does.
   */
  sataDisks?: { file: string; serial: string; wwn?: string }[];
}

/** One stamped serial-console line. */
export interface SerialLine {
  at: number;
  text: string;
}

/**
 * Follows a growing file and stamps each complete line with Date.now() when first seen (every 100 ms); on stop,
 * writes them with their stamps to FILE.stamped.
 */
export class SerialLog {
  readonly lines: SerialLine[] = [];
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();

  constructor(readonly file: string) {
    writeFileSync(file, '');
    this.timer = setInterval(() => this.poll(), 100);
  }

  /** Read what was appended since the last poll. */
  poll(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    readSync(fd, buf, 0, buf.length, this.offset);
    closeSync(fd);
    this.offset = size;
    // Strip terminal escapes (SeaBIOS/OVMF clear the screen) so lines can be matched as text.
    const text = this.partial + buf.toString('latin1').replace(CSI_SEQUENCE, '').replace(RESET_SEQUENCE, '');
    const parts = text.split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    const now = Date.now();
    for (const p of parts) if (p.trim() !== '') this.lines.push({ at: now, text: p });
  }

  /** First line matching `re` (after index `from`), or undefined. */
  find(re: RegExp, from = 0): SerialLine | undefined {
    this.poll();
    return this.lines.slice(from).find((l) => re.test(l.text));
  }

  /** Last `n` lines, for failure messages. */
  tail(n: number): string {
    this.poll();
    return this.lines
      .slice(-n)
      .map((l) => l.text)
      .join('\n');
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
    // The same lines with the seconds since the log started (just before QEMU), for reading a boot's phases afterwards.
    const stamped = this.lines.map((l) => `${((l.at - this.startedAt) / 1000).toFixed(1)} ${l.text}\n`).join('');
    writeFileSync(`${this.file}.stamped`, stamped);
  }
}

/** A running guest. */
export interface Guest {
  spec: GuestSpec;
  proc: ChildProcess;
  pid: number;
  serial: SerialLog;
  /** Host clock when QEMU was started ("power-on"). */
  poweredOnAt: number;
  exited: boolean;
}

/** Does this host have what the guests need? Throws with the fix. */
export function checkQemu(): void {
  for (const [f, pkg] of [
    [OVMF_CODE, 'ovmf'],
    [OVMF_VARS, 'ovmf'],
    [OVMF_CODE_MS, 'ovmf'],
    [OVMF_VARS_MS, 'ovmf'],
    [IPXE_VIRTIO_ROM, 'ipxe-qemu'],
  ] as const) {
    if (!existsSync(f)) throw new Error(`${f} is missing\n  fix: apt-get install ${pkg} (or: bash scripts/ensure-test-deps.sh)`);
  }
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-x86_64 is not installed\n  fix: apt-get install qemu-system-x86 (or: bash scripts/ensure-test-deps.sh)');
  }
}

/** Is `qemu-system-aarch64` with Debian's AAVMF here? Throws with the fix. */
export function checkQemuArm64(): void {
  for (const f of [AAVMF_CODE, AAVMF_VARS])
    if (!existsSync(f)) throw new Error(`${f} is missing\n  fix: apt-get install qemu-efi-aarch64 (or: bash scripts/ensure-test-deps.sh)`);
  try {
    execFileSync('qemu-system-aarch64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-aarch64 is not installed\n  fix: apt-get install qemu-system-arm (or: bash scripts/ensure-test-deps.sh)');
  }
}

const isArm = (spec: GuestSpec) => spec.arch === 'arm64';

/** The UEFI code and variable-store template a guest boots with. */
function firmwareFiles(spec: GuestSpec): { code: string; vars: string } {
  if (isArm(spec)) return { code: AAVMF_CODE, vars: AAVMF_VARS };
  return spec.secureBoot === true ? { code: OVMF_CODE_MS, vars: OVMF_VARS_MS } : { code: OVMF_CODE, vars: OVMF_VARS };
}

/** The QEMU command line for a guest (TCG: /dev/kvm on CI machines cannot run firmware). */
export function qemuArgs(spec: GuestSpec, serialFile: string, varsFile: string): string[] {
  const sb = spec.firmware === 'uefi' && spec.secureBoot === true && !isArm(spec);
  const a = [
    '-name',
    spec.name,
    '-machine',
    isArm(spec) ? 'virt' : sb ? 'q35,smm=on' : 'q35',
    '-cpu',
    isArm(spec) ? 'cortex-a57' : X86_CPU,
    '-accel',
    'tcg',
    '-m',
    String(spec.memoryMb),
    '-smp',
    String(spec.cpus),
  ];
  // -nographic (not -display none): QEMU then tells SeaBIOS to mirror its and iPXE's screen on the serial
  // port (etc/sercon-port), so the BIOS boot is visible in the log too.
  a.push('-nographic', '-monitor', 'none', '-chardev', `file,id=ser0,path=${serialFile}`, '-serial', 'chardev:ser0');
  a.push('-smbios', `type=1,manufacturer=Crashcart-E2E,product=${spec.firmware}-guest,serial=${spec.serial},uuid=${spec.uuid}`);
  if (sb) a.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  if (spec.firmware === 'uefi') {
    a.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${firmwareFiles(spec).code}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${varsFile}`,
    );
  }
  spec.nics.forEach((n, i) => {
    a.push('-netdev', `tap,id=net${i},ifname=${n.tap},script=no,downscript=no`);
    // BIOS: the boot NIC keeps QEMU's default ROM, efi-virtio.rom from ipxe-qemu (naming that same file
    // with romfile=PATH makes SeaBIOS skip it). UEFI: romfile= (none), so OVMF's own PXE client boots.
    // Other NICs: no ROM, they only show up in Linux.
    const rom = spec.firmware === 'bios' && i === 0 ? '' : ',romfile=';
    const boot = i === 0 ? ',bootindex=1' : '';
    a.push('-device', `virtio-net-pci,netdev=net${i},mac=${n.mac}${rom}${boot}`);
  });
  (spec.disks ?? []).forEach((d, i) => {
    a.push('-drive', `file=${d.file},if=none,id=disk${i},format=raw,cache=unsafe`);
    a.push('-device', `virtio-blk-pci,drive=disk${i},serial=${d.serial},bootindex=${i + 2}`);
  });
  (spec.sataDisks ?? []).forEach((d, i) => {
    a.push('-drive', `file=${d.file},if=none,id=sata${i},format=raw,cache=unsafe`);
    a.push('-device', `ide-hd,bus=ide.${i < 2 ? i : i + 1},drive=sata${i},serial=${d.serial}${d.wwn ? `,wwn=${d.wwn}` : ''}`);
  });
  // AAVMF ignores -boot (it follows bootindex); OVMF and SeaBIOS take it.
  a.push(...(spec.extraArgs ?? []), ...(isArm(spec) ? [] : ['-boot', 'n']));
  return a;
}

/** Start a guest inside namespace `ns`; its serial console goes to `serialFile`. */
export function startGuest(ns: string, spec: GuestSpec, serialFile: string, varsFile: string): Guest {
  if (spec.firmware === 'uefi') copyFileSync(firmwareFiles(spec).vars, varsFile);
  const serial = new SerialLog(serialFile);
  const bin = isArm(spec) ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
  const proc = spawn('ip', ['netns', 'exec', ns, bin, ...qemuArgs(spec, serialFile, varsFile)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  if (proc.pid === undefined) throw new Error(`could not start QEMU for ${spec.name}\n  fix: apt-get install qemu-system-x86`);
  const g: Guest = { spec, proc, pid: proc.pid, serial, poweredOnAt: Date.now(), exited: false };
  proc.on('exit', (code) => {
    g.exited = true;
    if (code !== 0 && code !== null) console.error(`[e2e] ${spec.name}: QEMU exited with ${code}: ${stderr}`);
  });
  return g;
}

/** Stop a guest by its PID (ip netns exec execs QEMU, so the PID is QEMU's). */
export async function stopGuest(g: Guest): Promise<void> {
  g.serial.stop();
  if (g.exited) return;
  try {
    process.kill(g.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && !g.exited; i++) await new Promise((r) => setTimeout(r, 100));
  if (!g.exited) {
    try {
      process.kill(g.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
