/**
 * The machine a BMC peer powers: a small QEMU guest with no disk (SeaBIOS finds nothing to boot and idles),
 * a pid file, and a QMP socket on which the test hears RESET and POWERDOWN (the ACPI power button) events.
 * Each guest carries a marker on its command line so the test only ever signals its own QEMU.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** One guest's files. */
export interface GuestFiles {
  pidFile: string;
  qmpSocket: string;
  marker: string;
}

/** Files for a guest under `dir`. */
export function guestFiles(dir: string, name: string): GuestFiles {
  return { pidFile: path.join(dir, `${name}.pid`), qmpSocket: path.join(dir, `${name}.qmp`), marker: `cc-bmc-${process.pid}-${name}` };
}

/** The guest's QEMU argument list (without any BMC devices, which ipmi_sim's startcmd adds). */
export function guestArgs(f: GuestFiles): string[] {
  return [
    '-name',
    f.marker,
    '-machine',
    'pc',
    '-accel',
    'tcg',
    '-m',
    '64',
    '-display',
    'none',
    '-nodefaults',
    '-no-user-config',
    '-qmp',
    `unix:${f.qmpSocket},server=on,wait=off`,
    '-pidfile',
    f.pidFile,
  ];
}

/** PID of the running guest, or null: the pid file's process must still run and carry our marker. */
export function runningGuest(f: GuestFiles): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(f.pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie (state Z) has exited; only its parent has not reaped it yet.
    if (!cmd.includes(f.marker) || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return null;
    return pid;
  } catch {
    return null;
  }
}

/** Kill our guest if it runs (by PID, after checking the marker). */
export function killGuest(f: GuestFiles): void {
  const pid = runningGuest(f);
  if (pid) process.kill(pid, 'SIGKILL');
}

/** A QMP connection that records the guest's events. */
export class QmpEvents {
  readonly events: string[] = [];
  private constructor(private readonly sock: net.Socket) {}

  /** Connect to a running guest's QMP socket and enter command mode (QMP needs qmp_capabilities first). */
  static connect(socket: string): Promise<QmpEvents> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socket);
      const q = new QmpEvents(sock);
      let buf = '';
      sock.once('error', reject);
      sock.on('data', (d) => {
        buf += d.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as { QMP?: unknown; event?: string; return?: unknown };
          if (msg.QMP) sock.write('{"execute":"qmp_capabilities"}\n');
          else if (msg.return !== undefined) resolve(q);
          else if (msg.event) q.events.push(msg.event);
        }
      });
    });
  }

  /** Close the connection. */
  close(): void {
    this.sock.destroy();
  }
}
