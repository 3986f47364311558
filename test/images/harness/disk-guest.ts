/**
 * QEMU machines that boot from a disk image, for proving an image boots (and, in part 2, that a deployed
 * disk boots): SeaBIOS or OVMF on TCG, the system disk as a copy-on-write qcow2 overlay of the raw image
 * (optionally larger, so growpart has room), a NoCloud seed as a second disk, one virtio NIC without a
 * boot ROM on a tap in the test's namespace, and the serial console followed line by line.
 */
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { OVMF_CODE, SerialLog, type Guest, type GuestSpec } from '../../e2e/harness/qemu.ts';
import { run } from './tools.ts';

/** Debian's OVMF variable store template (copied per guest). */
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

/** A disk-booting guest. */
export interface DiskGuestSpec {
  name: string;
  firmware: 'bios' | 'uefi';
  memoryMb: number;
  /** The raw image the system disk starts as (not modified). */
  baseImage: string;
  /** Virtual size of the system disk in bytes (>= the image). */
  diskBytes: number;
  seedImage: string;
  mac: string;
  tap: string;
}

/** The QEMU command line (TCG: the KVM of these machines cannot run the firmware, see test/e2e). */
export function diskGuestArgs(s: DiskGuestSpec, overlay: string, serialFile: string, varsFile: string): string[] {
  const a = ['-name', s.name, '-machine', 'q35', '-accel', 'tcg', '-m', String(s.memoryMb), '-smp', '1'];
  a.push('-nographic', '-monitor', 'none', '-chardev', `file,id=ser0,path=${serialFile}`, '-serial', 'chardev:ser0');
  if (s.firmware === 'uefi') {
    a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${varsFile}`);
  }
  a.push('-drive', `if=none,id=sys,format=qcow2,file=${overlay}`, '-device', 'virtio-blk-pci,drive=sys,bootindex=1');
  a.push('-drive', `if=none,id=seed,format=raw,readonly=on,file=${s.seedImage}`, '-device', 'virtio-blk-pci,drive=seed');
  a.push('-netdev', `tap,id=n0,ifname=${s.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${s.mac},romfile=`);
  return a;
}

/** Start a guest in namespace `ns`: the overlay and the UEFI variables live at `prefix`.*. */
export function startDiskGuest(ns: string, s: DiskGuestSpec, prefix: string): Guest {
  const overlay = `${prefix}.qcow2`;
  run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', s.baseImage, overlay, String(s.diskBytes)]);
  const varsFile = `${prefix}.vars.fd`;
  if (s.firmware === 'uefi') copyFileSync(OVMF_VARS, varsFile);
  const serialFile = `${prefix}.serial.log`;
  const serial = new SerialLog(serialFile);
  const proc = spawn('ip', ['netns', 'exec', ns, 'qemu-system-x86_64', ...diskGuestArgs(s, overlay, serialFile, varsFile)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  if (proc.pid === undefined) throw new Error(`could not start QEMU for ${s.name}\n  fix: apt-get install qemu-system-x86`);
  const spec: GuestSpec = {
    name: s.name,
    firmware: s.firmware,
    memoryMb: s.memoryMb,
    cpus: 1,
    serial: '',
    uuid: '',
    nics: [{ mac: s.mac, tap: s.tap }],
  };
  const g: Guest = { spec, proc, pid: proc.pid, serial, poweredOnAt: Date.now(), exited: false };
  proc.on('exit', (code) => {
    g.exited = true;
    if (code !== 0 && code !== null) console.error(`[images] ${s.name}: QEMU exited with ${code}: ${stderr}`);
  });
  return g;
}

/** Wait until the serial console shows a line matching `re`, or fail with the console's tail. */
export async function waitSerial(g: Guest, re: RegExp, timeoutMs: number, what: string): Promise<{ at: number; text: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = g.serial.find(re);
    if (hit) return hit;
    if (g.exited || Date.now() > deadline)
      throw new Error(
        `${g.spec.name}: ${what} did not happen within ${timeoutMs / 1000} s${g.exited ? ' (QEMU exited)' : ''}; last console lines:\n${g.serial.tail(30)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Run a command over SSH inside namespace `ns` with `key`, retrying until `deadline` (sshd starts late on TCG). */
export async function sshRun(ns: string, key: string, user: string, ip: string, cmd: string, deadline: number): Promise<string> {
  let last = '';
  for (;;) {
    try {
      return execFileSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'ssh',
          '-i',
          key,
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'ConnectTimeout=10',
          '-o',
          'LogLevel=ERROR',
          `${user}@${ip}`,
          cmd,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
      );
    } catch (e) {
      last = (e as { stderr?: string }).stderr ?? (e as Error).message;
      if (Date.now() > deadline) throw new Error(`ssh ${user}@${ip} "${cmd}" kept failing: ${last}`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}
